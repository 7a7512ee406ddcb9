//! Spam signals of a public comment, decided when it is submitted.
//!
//! What each signal does (README, "Comments"):
//! - the honeypot field `website` filled in: stored as spam, the sender still sees 202;
//! - a word or phrase of `NEWSDESK_COMMENT_SPAM_WORDS`, matched as whole words without case or
//!   diacritics: stored as spam;
//! - more than `NEWSDESK_COMMENT_MAX_LINKS` links: stored as spam;
//! - at least one link, but no more than that: left pending and flagged for the moderator.
//!
//! Spam is never lost: moderators see it in the desk and may move it back to pending.

#[cfg(test)]
use crate::text::fold;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Store the comment as spam rather than pending.
    pub spam: bool,
    /// What was seen, for the moderator: `honeypot`, `word:ca do`, `links:3`.
    pub flags: Vec<String>,
}

impl Verdict {
    /// The reason written to the moderation history when the comment is stored as spam.
    pub fn note(&self) -> String {
        format!("automatic: {}", self.flags.join(", "))
    }
}

/// Links as readers and bots write them: with a scheme or starting with `www.`.
pub fn count_links(text: &str) -> usize {
    let lower = text.to_lowercase();
    lower.matches("http://").count()
        + lower.matches("https://").count()
        + lower
            .split(|c: char| c.is_whitespace() || c == '(' || c == '<' || c == '"')
            .filter(|w| w.starts_with("www."))
            .count()
}

/// `folded` is the comment's text through [`fold`]; `texts` are the raw fields, for links.
pub fn judge(honeypot: bool, folded: &str, texts: &[&str], words: &[String], max_links: u32) -> Verdict {
    let mut flags = Vec::new();
    let mut spam = false;
    if honeypot {
        flags.push("honeypot".to_owned());
        spam = true;
    }
    let folded = format!(" {folded} ");
    for word in words {
        if folded.contains(&format!(" {word} ")) {
            flags.push(format!("word:{word}"));
            spam = true;
        }
    }
    let links: usize = texts.iter().map(|t| count_links(t)).sum();
    if links > 0 {
        flags.push(format!("links:{links}"));
        if links > max_links as usize {
            spam = true;
        }
    }
    Verdict { spam, flags }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vec<String> {
        ["ca do", "casino"].iter().map(|w| fold(w)).collect()
    }

    fn judge_texts(honeypot: bool, texts: &[&str]) -> Verdict {
        judge(honeypot, &fold(&texts.join(" ")), texts, &words(), 2)
    }

    #[test]
    fn listed_words_match_without_diacritics_and_only_as_whole_words() {
        let v = judge_texts(false, &["Trang CÁ ĐỘ bóng đá uy tín"]);
        assert!(v.spam);
        assert_eq!(v.flags, ["word:ca do"]);
        // `casinos` is another word; `cá độc` too.
        let v = judge_texts(false, &["casinos và cá độc"]);
        assert!(!v.spam, "{v:?}");
    }

    #[test]
    fn a_few_links_are_flagged_and_many_are_spam() {
        let v = judge_texts(false, &["Xem https://a.vn và www.b.vn"]);
        assert!(!v.spam);
        assert_eq!(v.flags, ["links:2"]);
        let v = judge_texts(false, &["http://a.vn http://b.vn", "https://c.vn"]);
        assert!(v.spam);
    }

    #[test]
    fn the_honeypot_alone_is_spam() {
        let v = judge_texts(true, &["Ý kiến bình thường"]);
        assert!(v.spam);
        assert_eq!(v.note(), "automatic: honeypot");
    }
}
