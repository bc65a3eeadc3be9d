//! Country codes: the ISO 3166-1 alpha-2 codes in use, so that `XX`, `EU` or
//! `UK` is refused wherever a country is expected (requests and packs alike).

/// The officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance
/// Agency), plus `XK`: a user-assigned code that the EAR Country Chart and
/// common practice use for Kosovo. Sorted, for binary search.
const ASSIGNED: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether `code` is a country code in use (two capital letters, assigned).
pub fn is_assigned(code: &str) -> bool {
    ASSIGNED.binary_search(&code).is_ok()
}

/// Whether `code` is an ISO 3166-2 subdivision code of an assigned country:
/// the country's alpha-2 code, `-`, then one to three capital letters or
/// digits (`UA-43` Crimea, `UA-40` Sevastopol, `US-CA`).
pub fn is_subdivision(code: &str) -> bool {
    match code.split_once('-') {
        Some((country, sub)) => {
            is_assigned(country)
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        None => false,
    }
}

/// The country of a subdivision code (`UA-43` → `UA`).
pub fn subdivision_country(code: &str) -> &str {
    code.split_once('-').map(|(c, _)| c).unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdivision_codes() {
        for ok in ["UA-43", "UA-40", "UA-14", "UA-09", "US-CA", "GB-ENG"] {
            assert!(is_subdivision(ok), "{ok}");
        }
        for bad in ["UA", "UA-", "XX-43", "ua-43", "UA-4321", "UA_43", "UA-4 "] {
            assert!(!is_subdivision(bad), "{bad}");
        }
        assert_eq!(subdivision_country("UA-43"), "UA");
    }

    #[test]
    fn the_table_is_sorted_and_complete() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
        // 249 assigned codes plus XK.
        assert_eq!(ASSIGNED.len(), 250);
    }

    #[test]
    fn unassigned_and_reserved_codes_are_refused() {
        for ok in ["CN", "HK", "MO", "TW", "XK", "US", "GB", "SS", "BQ"] {
            assert!(is_assigned(ok), "{ok}");
        }
        for bad in ["XX", "EU", "UK", "ZZ", "AA", "cn", "C", "CHN", ""] {
            assert!(!is_assigned(bad), "{bad}");
        }
    }
}
