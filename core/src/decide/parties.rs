//! Party screening: normalized names and aliases, and a fuzzy score for near misses.

/// Legal-form words dropped before comparing names.
const LEGAL_FORMS: &[&str] = &[
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "bv",
    "nv",
    "sa",
    "kk",
    "the",
];

/// Lowercase, punctuation to spaces, legal forms dropped, whitespace collapsed.
pub fn normalize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .filter(|w| !LEGAL_FORMS.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sørensen–Dice similarity of character bigrams of two normalized names, in [0, 1].
pub fn similarity(a: &str, b: &str) -> f64 {
    fn bigrams(s: &str) -> Vec<(char, char)> {
        let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut v: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        v.sort_unstable();
        v
    }
    if a == b {
        return 1.0;
    }
    let (x, y) = (bigrams(a), bigrams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    // Multiset intersection of two sorted lists.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

/// How a screened name relates to a listed party.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PartyMatch {
    /// Same normalized name or alias.
    Exact,
    /// Similar above the threshold: a person must look.
    NearMiss(f64),
    None,
}

/// Compares every name of the screened party with every name of a listed one.
pub fn screen(names: &[String], listed: &[String], threshold: f64) -> PartyMatch {
    let mut best: f64 = 0.0;
    for n in names {
        for l in listed {
            if n.is_empty() || l.is_empty() {
                continue;
            }
            if n == l {
                return PartyMatch::Exact;
            }
            best = best.max(similarity(n, l));
        }
    }
    if best >= threshold {
        PartyMatch::NearMiss(best)
    } else {
        PartyMatch::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_punctuation_case_and_legal_forms() {
        assert_eq!(
            normalize("Semiconductor Manufacturing International (Beijing) Corporation"),
            "semiconductor manufacturing international beijing"
        );
        assert_eq!(
            normalize("Samsung China Semiconductor Co., Ltd."),
            "samsung china semiconductor"
        );
        assert_eq!(
            normalize("  YANGTZE  Memory Technologies Co.,Ltd "),
            "yangtze memory technologies"
        );
    }

    #[test]
    fn near_misses_score_high_and_strangers_low() {
        let listed = normalize("Semiconductor Manufacturing International (Beijing) Corporation");
        let typo = normalize("Semiconducter Manufacturing Internationl (Beijing) Corp");
        assert!(
            similarity(&typo, &listed) > 0.85,
            "{}",
            similarity(&typo, &listed)
        );
        let other = normalize("Samsung China Semiconductor Co., Ltd.");
        assert!(
            similarity(&other, &listed) < 0.6,
            "{}",
            similarity(&other, &listed)
        );
        let ymtc = normalize("Yangtze Memory Technologies Co., Ltd.");
        assert!(similarity(&normalize("Example Memory Co."), &ymtc) < 0.6);
    }

    #[test]
    fn screen_reports_exact_near_and_none() {
        let listed = vec![
            normalize("SJ Semiconductor Corporation"),
            normalize("SJ Semi"),
        ];
        assert_eq!(
            screen(&[normalize("SJ Semiconductor Corp.")], &listed, 0.85),
            PartyMatch::Exact
        );
        assert!(matches!(
            screen(&[normalize("SJ Semiconductors Corp")], &listed, 0.85),
            PartyMatch::NearMiss(_)
        ));
        assert_eq!(
            screen(
                &[normalize("Example Foundry (Shanghai) Co.")],
                &listed,
                0.85
            ),
            PartyMatch::None
        );
    }
}
