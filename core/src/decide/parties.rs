//! Name normalisation for whole-word matching of manufacturers (advisories).
//! Party screening itself is `exportctl_screening` (see `engine::end_user`).

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
}
