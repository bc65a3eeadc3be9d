//! Name normalisation for screening: folds the disguises a party name can wear
//! (full-width letters, invisible characters, look-alike letters from other
//! scripts, case, accents, punctuation, legal forms and abbreviations) so that
//! two spellings of one name end as the same token sequence.
//!
//! [`normalize`] runs these steps in order; each is a function of its own,
//! tested on its own:
//!
//! 1. **Compatibility** ([`step1_compat`]): invisible characters are removed
//!    (U+200B–U+200F zero-width and direction marks, U+202A–U+202E bidi
//!    embeddings, U+2060–U+2069 word joiner and isolates, U+FEFF, the soft
//!    hyphen U+00AD, U+034F and U+180E), then Unicode NFKC (`ＳＭＩＣ` → `SMIC`,
//!    `𝐒` → `S`, `ﬁ` → `fi`).
//! 2. **Confusables** ([`step2_confusables`]): every letter outside the Latin
//!    script and outside the CJK scripts (Han, Hiragana, Katakana, Hangul,
//!    Bopomofo, which are never folded) is replaced by its Unicode TR39
//!    skeleton (the `unicode-security` crate's `skeleton`) when that skeleton
//!    is plain ASCII letters or digits: Cyrillic `ЅМІС` → `smic`, Greek
//!    `ΑΒΒ` → `ABB`. The lower-case letter is tried first (Cyrillic `і` is `i`,
//!    whereas its capital `І` is skeleton `l`), then the capital (Cyrillic `м`
//!    has a non-ASCII skeleton, its capital `М` is `M`). Latin letters are left
//!    as they are: TR39 would fold Latin `m` to `rn` and `l` to `I`, which
//!    would merge real names. Letters without an ASCII skeleton stay unchanged.
//! 3. **Case and accents** ([`step3_fold`]): lower case; combining marks are
//!    dropped after canonical decomposition (`é` → `e`, `ü` → `u`), and
//!    `ß`→`ss`, `æ`→`ae`, `œ`→`oe`, `ø`→`o`, `đ`/`ð`→`d`, `ł`→`l`, `þ`→`th`,
//!    `ı`→`i`. CJK characters are kept as they are.
//! 4. **Punctuation** ([`step4_punctuation`]): apostrophes (`'`, `’`, `‘`, `ʼ`,
//!    `` ` ``, `´`) are removed (`Int'l` → `intl`), `&` becomes ` and `, every
//!    other character that is not a letter or digit becomes a space, spaces
//!    collapse to one, and a run of two or more single-letter Latin words is
//!    joined (`S.A.` → `s a` → `sa`, `K.K.` → `kk`).
//! 5. **Legal forms** ([`step5_legal_forms`]): the words of [`LEGAL_FORMS`]
//!    and the phrases of [`LEGAL_PHRASES`] are dropped, and the CJK forms of
//!    [`CJK_LEGAL_FORMS`] are stripped from the start and end of a CJK token
//!    (or the token dropped when it is only a legal form), so long as at least
//!    one token remains (`The Limited` stays `limited`).
//! 6. **Abbreviations** ([`step6_abbreviations`]): each word of a group in
//!    [`ABBREVIATIONS`] becomes the group's canonical (first) word:
//!
//!    | canonical | also written |
//!    |---|---|
//!    | manufacturing | mfg, mfr, mfrs, manufacture, manufacturer, manufacturers, manuf |
//!    | international | intl, internat, int, internacional, internationale |
//!    | technology | tech, techn, technol, technologies, technological, technologie, tecnologia |
//!    | semiconductor | semicon, semicond, semiconductors |
//!    | biotechnology | biotech, biotechnologies, biotechnological |
//!    | electronics | electronic, elec, electr, elektronik, electronica |
//!    | engineering | eng, engg, engr, engineer |
//!    | industry | ind, inds, indus, industries, industrial |
//!    | system | sys, syst, systems |
//!    | service | svc, svcs, serv, services |
//!    | development | dev, devt, develop |
//!    | cooperative | coop, cooperatives |
//!    | association | assn, assoc, associates, associated |
//!    | national | natl, nat |
//!    | university | univ |
//!    | institute | inst, instit, institut |
//!    | trading | trdg, trade |
//!    | holding | hldg, hldgs, holdings |
//!    | group | grp |
//!    | enterprise | ent, enterprises |
//!    | management | mgmt, mgt |
//!    | science | sci, sciences, scientific |
//!    | laboratory | lab, labs, laboratories |
//!    | equipment | equip, eqpt |
//!    | communication | comm, comms, communications, telecommunication, telecommunications |
//!    | brothers | bros |
//!    | aviation | avn |
//!    | company (dropped as a legal form anyway) | |
//!
//! 7. **Tokens** ([`step7_tokens`]): the text is split on spaces; inside a
//!    word, a run of CJK characters is one token and a run of Latin letters or
//!    digits is another (`华为technology` → `华为`, `technology`).
//!
//! [`NormalizedName::text`] is the tokens joined by single spaces.
//!
//! [`is_mixed_script`] reports a word that mixes letters of two scripts that
//! TR39 does not count as one writing system (Latin with Cyrillic or Greek;
//! Han with kana is Japanese and counts as one).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_script::{Script, UnicodeScript};
use unicode_security::MixedScript;

/// A normalised name: its token sequence and the tokens joined by spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizedName {
    pub text: String,
    pub tokens: Vec<String>,
}

/// Normalises a party name (steps 1 to 7 of the module documentation).
pub fn normalize(name: &str) -> NormalizedName {
    let detailed = normalize_detailed(name);
    NormalizedName {
        text: detailed.tokens.join(" "),
        tokens: detailed.tokens,
    }
}

/// What normalisation had to fold away: the disguise signals a hit reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Folds {
    /// Invisible (zero-width or bidi) characters were removed.
    pub invisible: bool,
    /// NFKC changed the text (full-width or other compatibility forms).
    pub compat: bool,
    /// Letters of another script were folded to Latin look-alikes.
    pub confusable: bool,
}

/// The normalised tokens, the surface form of each (the word before step 6
/// made it canonical) and the folds that were needed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Detailed {
    pub tokens: Vec<String>,
    pub surfaces: Vec<String>,
    pub folds: Folds,
}

pub(crate) fn normalize_detailed(name: &str) -> Detailed {
    let mut folds = Folds::default();
    let folded = if name.is_ascii() {
        // Steps 1 and 2 never change ASCII, and step 3 is plain lower case.
        name.to_ascii_lowercase()
    } else {
        let s1 = step1_compat(name, &mut folds);
        let s2 = step2_confusables(&s1, &mut folds);
        step3_fold(&s2)
    };
    let s4 = step4_punctuation(&folded);
    let tokens = step7_tokens(&s4);
    let surfaces = step5_legal_forms(tokens);
    let tokens = surfaces
        .iter()
        .map(|t| step6_abbreviations(t).to_owned())
        .collect();
    Detailed {
        tokens,
        surfaces,
        folds,
    }
}

/// Whether the character is invisible formatting that step 1 removes.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
    )
}

/// Whether the character belongs to a CJK script (never skeleton-folded; a run
/// of them is one token). The kana prolonged-sound mark and iteration marks
/// (script Common) count as CJK too.
pub(crate) fn is_cjk(c: char) -> bool {
    if (c as u32) < 0x1100 {
        return false;
    }
    match c.script() {
        Script::Han | Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo => {
            true
        }
        _ => matches!(c, '\u{3005}' | '\u{303B}' | '\u{30FC}' | '\u{FF70}'),
    }
}

/// Step 1: removes invisible characters, then applies NFKC.
pub fn step1_compat_text(s: &str) -> String {
    step1_compat(s, &mut Folds::default())
}

pub(crate) fn step1_compat(s: &str, folds: &mut Folds) -> String {
    let visible: String = s.chars().filter(|&c| !is_invisible(c)).collect();
    if visible.len() != s.len() {
        folds.invisible = true;
    }
    let nfkc: String = visible.nfkc().collect();
    if nfkc != visible.nfc().collect::<String>() {
        folds.compat = true;
    }
    nfkc
}

/// Step 2: folds letters of non-Latin, non-CJK scripts to their TR39
/// skeleton when that skeleton is ASCII.
pub fn step2_confusables_text(s: &str) -> String {
    step2_confusables(s, &mut Folds::default())
}

pub(crate) fn step2_confusables(s: &str, folds: &mut Folds) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() || is_cjk(c) || !c.is_alphabetic() {
            out.push(c);
            continue;
        }
        match c.script() {
            Script::Latin | Script::Common | Script::Inherited => out.push(c),
            _ => match ascii_skeleton(c) {
                Some(folded) => {
                    folds.confusable = true;
                    out.push_str(&folded);
                }
                None => out.push(c),
            },
        }
    }
    out
}

/// The TR39 skeleton of a letter when it is ASCII letters or digits: the
/// lower-case letter's first, else the capital's.
fn ascii_skeleton(c: char) -> Option<String> {
    let attempt = |variant: &mut dyn Iterator<Item = char>| -> Option<String> {
        let mut buf = [0u8; 4];
        let mut out = String::new();
        for v in variant {
            let text: &str = v.encode_utf8(&mut buf);
            for k in unicode_security::skeleton(text) {
                if is_combining_mark(k) {
                    continue;
                }
                if !k.is_ascii_alphanumeric() {
                    return None;
                }
                out.push(k);
            }
        }
        (!out.is_empty()).then_some(out)
    };
    attempt(&mut c.to_lowercase()).or_else(|| attempt(&mut c.to_uppercase()))
}

/// Step 3: lower case, accents removed, a few Latin letters spelled out.
pub fn step3_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if is_cjk(c) {
            out.push(c);
            continue;
        }
        for lower in c.to_lowercase() {
            match lower {
                'ß' => out.push_str("ss"),
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ø' => out.push('o'),
                'đ' | 'ð' => out.push('d'),
                'ł' => out.push('l'),
                'þ' => out.push_str("th"),
                'ı' => out.push('i'),
                _ => decompose_canonical(lower, |d| {
                    if !is_combining_mark(d) {
                        out.push(d);
                    }
                }),
            }
        }
    }
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}'
    )
}

/// Step 4: punctuation and spaces (see the module documentation).
pub fn step4_punctuation(s: &str) -> String {
    let mut spaced = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_apostrophe(c) {
            continue;
        }
        if c == '&' {
            spaced.push_str(" and ");
        } else if c.is_alphanumeric() {
            spaced.push(c);
        } else {
            spaced.push(' ');
        }
    }
    let mut out = String::with_capacity(spaced.len());
    let mut pending_initials = false;
    for word in spaced.split_whitespace() {
        let initial = word.chars().count() == 1 && word.chars().all(|c| c.is_ascii_alphabetic());
        if !(out.is_empty() || initial && pending_initials) {
            out.push(' ');
        }
        out.push_str(word);
        pending_initials = initial;
    }
    // The loop above joins a single letter to a single letter before it; a
    // lone single letter between longer words keeps its spaces.
    out
}

/// Legal-form words dropped by step 5.
pub const LEGAL_FORMS: &[&str] = &[
    "the",
    "co",
    "cos",
    "company",
    "companies",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "ltd",
    "ltda",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "bv",
    "nv",
    "sa",
    "sas",
    "sarl",
    "sl",
    "kk",
    "oy",
    "oyj",
    "ab",
    "as",
    "asa",
    "spa",
    "srl",
    "pte",
    "pty",
    "pvt",
    "jsc",
    "ojsc",
    "pjsc",
    "cjsc",
    "ooo",
    "zao",
    "oao",
    "pao",
    "ao",
    "tov",
    "bhd",
    "sdn",
    "fze",
    "fzco",
    "fzc",
    "fzllc",
    "dmcc",
    "cv",
    "sro",
    "spol",
    "doo",
    "kft",
    "zrt",
    "sp",
    "zoo",
];

/// Multi-word legal forms dropped by step 5 (matched before single words).
pub const LEGAL_PHRASES: &[&[&str]] = &[
    &["joint", "stock"],
    &["limited", "liability"],
    &["private", "limited"],
    &["public", "limited"],
    &["societe", "anonyme"],
    &["kabushiki", "kaisha"],
    &["yugen", "kaisha"],
];

/// CJK legal forms stripped by step 5, longest first.
pub const CJK_LEGAL_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "集团有限公司",
    "集團有限公司",
    "有限公司",
    "株式会社",
    "株式會社",
    "有限会社",
    "合同会社",
    "주식회사",
    "유한회사",
    "公司",
];

/// Step 5: drops legal forms from a token sequence (keeping at least one token).
pub fn step5_legal_forms(tokens: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].as_str();
        if let Some(phrase) = LEGAL_PHRASES.iter().find(|p| {
            tokens.len() >= i + p.len() && p.iter().zip(&tokens[i..]).all(|(a, b)| a == b)
        }) {
            i += phrase.len();
            continue;
        }
        if LEGAL_FORMS.contains(&word) {
            i += 1;
            continue;
        }
        if word.chars().next().is_some_and(is_cjk) {
            let stripped = strip_cjk_forms(word);
            if !stripped.is_empty() {
                kept.push(stripped.to_owned());
            }
            i += 1;
            continue;
        }
        kept.push(tokens[i].clone());
        i += 1;
    }
    if kept.is_empty() { tokens } else { kept }
}

fn strip_cjk_forms(mut word: &str) -> &str {
    loop {
        let before = word.len();
        for form in CJK_LEGAL_FORMS {
            if let Some(rest) = word.strip_suffix(form) {
                word = rest;
            }
            if let Some(rest) = word.strip_prefix(form) {
                word = rest;
            }
        }
        if word.len() == before {
            return word;
        }
    }
}

/// Abbreviation groups of step 6: the first word of each is canonical.
pub const ABBREVIATIONS: &[&[&str]] = &[
    &[
        "manufacturing",
        "mfg",
        "mfr",
        "mfrs",
        "manufacture",
        "manufacturer",
        "manufacturers",
        "manuf",
    ],
    &[
        "international",
        "intl",
        "internat",
        "int",
        "internacional",
        "internationale",
    ],
    &[
        "technology",
        "tech",
        "techn",
        "technol",
        "technologies",
        "technological",
        "technologie",
        "tecnologia",
    ],
    &["semiconductor", "semicon", "semicond", "semiconductors"],
    &[
        "biotechnology",
        "biotech",
        "biotechnologies",
        "biotechnological",
    ],
    &[
        "electronics",
        "electronic",
        "elec",
        "electr",
        "elektronik",
        "electronica",
    ],
    &["engineering", "eng", "engg", "engr", "engineer"],
    &[
        "industry",
        "ind",
        "inds",
        "indus",
        "industries",
        "industrial",
    ],
    &["system", "sys", "syst", "systems"],
    &["service", "svc", "svcs", "serv", "services"],
    &["development", "dev", "devt", "develop"],
    &["cooperative", "coop", "cooperatives"],
    &["association", "assn", "assoc", "associates", "associated"],
    &["national", "natl", "nat"],
    &["university", "univ"],
    &["institute", "inst", "instit", "institut"],
    &["trading", "trdg", "trade"],
    &["holding", "hldg", "hldgs", "holdings"],
    &["group", "grp"],
    &["enterprise", "ent", "enterprises"],
    &["management", "mgmt", "mgt"],
    &["science", "sci", "sciences", "scientific"],
    &["laboratory", "lab", "labs", "laboratories"],
    &["equipment", "equip", "eqpt"],
    &[
        "communication",
        "comm",
        "comms",
        "communications",
        "telecommunication",
        "telecommunications",
    ],
    &["brothers", "bros"],
    &["aviation", "avn"],
];

/// Step 6: the canonical word of a token's abbreviation group, or the token.
pub fn step6_abbreviations(token: &str) -> &str {
    for group in ABBREVIATIONS {
        if group.contains(&token) {
            return group[0];
        }
    }
    token
}

/// Step 7: splits a step-4 text into tokens: words on spaces, and inside a
/// word one token per run of CJK characters or of other characters.
pub fn step7_tokens(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if word.is_ascii() {
            tokens.push(word.to_owned());
            continue;
        }
        let mut current = String::new();
        let mut current_cjk = false;
        for c in word.chars() {
            let cjk = is_cjk(c);
            if !current.is_empty() && cjk != current_cjk {
                tokens.push(std::mem::take(&mut current));
            }
            current_cjk = cjk;
            current.push(c);
        }
        if !current.is_empty() {
            tokens.push(current);
        }
    }
    tokens
}

/// Whether some word of the name mixes letters of scripts that do not form one
/// writing system (TR39 resolved script set empty), e.g. Latin `S` with
/// Cyrillic `М`. Digits and punctuation are neutral.
pub fn is_mixed_script(name: &str) -> bool {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_ascii())
        .any(|w| !w.is_single_script())
}

/// Whether two single names normalise to the same token set (an exact match
/// as [`crate::index::NameIndex`] defines it, without the index).
pub fn same_party(a: &str, b: &str) -> bool {
    let mut ta = normalize_detailed(a).tokens;
    let mut tb = normalize_detailed(b).tokens;
    if ta.is_empty() || tb.is_empty() {
        return false;
    }
    ta.sort_unstable();
    tb.sort_unstable();
    ta == tb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        normalize(s).tokens
    }

    #[test]
    fn step1_folds_full_width_and_removes_invisibles() {
        assert_eq!(step1_compat_text("ＳＭＩＣ"), "SMIC");
        assert_eq!(
            step1_compat_text("S\u{200B}M\u{202E}I\u{FEFF}C\u{00AD}"),
            "SMIC"
        );
        assert_eq!(step1_compat_text("𝐒𝐌𝐈𝐂"), "SMIC");
        // Through the whole pipeline: without step 1 these stay apart.
        assert_eq!(tokens("ＳＭＩＣ"), ["smic"]);
        assert_eq!(tokens("S\u{200B}MIC"), ["smic"]);
        assert_eq!(tokens("Hua\u{2060}wei"), ["huawei"]);
    }

    #[test]
    fn step2_folds_cyrillic_and_greek_look_alikes_but_not_cjk_or_latin() {
        // Cyrillic Ѕ М І С
        let cyrillic = "\u{0405}\u{041C}\u{0406}\u{0421}";
        assert_eq!(step2_confusables_text(cyrillic).to_lowercase(), "smic");
        assert_eq!(tokens(cyrillic), ["smic"]);
        // Greek capital alpha, beta; Cyrillic small о in Latin "Toyota".
        assert_eq!(tokens("\u{0391}\u{0392}\u{0392}"), ["abb"]);
        assert_eq!(tokens("T\u{043E}y\u{043E}ta"), ["toyota"]);
        // CJK and Latin letters are left alone.
        assert_eq!(step2_confusables_text("华为 m l"), "华为 m l");
    }

    #[test]
    fn step3_lower_cases_and_removes_accents() {
        assert_eq!(step3_fold("NESTLÉ Straße Ørsted"), "nestle strasse orsted");
        assert_eq!(tokens("Nestlé"), tokens("NESTLE"));
        assert_eq!(step3_fold("华为"), "华为");
    }

    #[test]
    fn step4_punctuation_apostrophes_ampersand_initials() {
        assert_eq!(step4_punctuation("int'l"), "intl");
        assert_eq!(step4_punctuation("ab&cd,  ef.gh-ij"), "ab and cd ef gh ij");
        assert_eq!(step4_punctuation("nestle s.a."), "nestle sa");
        assert_eq!(step4_punctuation("xy k.k. yz"), "xy kk yz");
        assert_eq!(tokens("Int'l Trading"), tokens("intl trading"));
        assert_eq!(tokens("Smith & Jones"), ["smith", "and", "jones"]);
    }

    #[test]
    fn step5_drops_legal_forms() {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            step5_legal_forms(owned(&["the", "acme", "co", "ltd"])),
            ["acme"]
        );
        assert_eq!(
            step5_legal_forms(owned(&["acme", "joint", "stock", "company"])),
            ["acme"]
        );
        assert_eq!(
            step5_legal_forms(owned(&["华为技术有限公司"])),
            ["华为技术"]
        );
        assert_eq!(step5_legal_forms(owned(&["株式会社東芝"])), ["東芝"]);
        assert_eq!(
            step5_legal_forms(owned(&["삼성전자", "주식회사"])),
            ["삼성전자"]
        );
        // Never drops every token.
        assert_eq!(
            step5_legal_forms(owned(&["the", "limited"])),
            ["the", "limited"]
        );
        assert_eq!(tokens("Robert Bosch GmbH"), ["robert", "bosch"]);
        assert_eq!(tokens("Nestlé S.A."), ["nestle"]);
    }

    #[test]
    fn step6_canonicalises_abbreviations() {
        assert_eq!(step6_abbreviations("mfg"), "manufacturing");
        assert_eq!(step6_abbreviations("intl"), "international");
        assert_eq!(step6_abbreviations("technologies"), "technology");
        assert_eq!(step6_abbreviations("semiconductors"), "semiconductor");
        assert_eq!(step6_abbreviations("biotech"), "biotechnology");
        assert_eq!(step6_abbreviations("huawei"), "huawei");
        assert_eq!(
            tokens("Semiconductor Mfg. Int'l Corp."),
            tokens("SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORPORATION")
        );
    }

    #[test]
    fn step7_splits_cjk_runs_from_latin() {
        assert_eq!(
            step7_tokens("华为technologies 2 中兴"),
            ["华为", "technologies", "2", "中兴"]
        );
        assert_eq!(tokens("华为技术有限公司"), ["华为技术"]);
        assert_eq!(
            normalize("Huawei Technologies Co., Ltd.").text,
            "huawei technology"
        );
    }

    #[test]
    fn mixed_script_words_are_detected() {
        assert!(is_mixed_script("S\u{041C}IC Trading"));
        assert!(!is_mixed_script("\u{0405}\u{041C}\u{0406}\u{0421}"));
        assert!(!is_mixed_script("SMIC 华为 株式会社東芝"));
        assert!(!is_mixed_script("Nestlé S.A."));
    }

    #[test]
    fn same_party_compares_token_sets() {
        assert!(same_party("Huawei Technologies Co., Ltd.", "HUAWEI TECH"));
        assert!(same_party(
            "Manufacturing International Semiconductor",
            "Semiconductor Mfg Intl"
        ));
        assert!(!same_party("China Mobile", "China Telecom"));
        assert!(!same_party("", ""));
    }
}
