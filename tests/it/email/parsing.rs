//! The mail parser on the fixture corpus and random bytes, and signed reply addresses, without a server.

use super::*;
use confer::mail::parse::{self, InboundMail};
use confer::mail::reply_address::Refusal;

#[test]
fn every_fixture_parses_to_its_expected_result() {
    let expected: Vec<Value> =
        serde_json::from_slice(&fixture("expected.json")).expect("expected.json");
    assert!(expected.len() >= 19, "the whole corpus is checked");
    for case in &expected {
        let file = case["file"].as_str().expect("file");
        let mail: InboundMail =
            parse::parse(&fixture(file)).unwrap_or_else(|| panic!("{file} did not parse"));
        assert_eq!(
            mail.from_email.as_deref(),
            case["from"].as_str(),
            "{file}: sender"
        );
        assert_eq!(
            mail.subject,
            case["subject"].as_str().expect("subject"),
            "{file}: subject"
        );
        assert_eq!(
            mail.message_id.as_deref(),
            case["message_id"].as_str(),
            "{file}: Message-ID"
        );
        assert_eq!(
            mail.thread_ids,
            strings(&case["thread_ids"]),
            "{file}: thread ids"
        );
        assert_eq!(
            mail.automated.is_some(),
            case["automated"].as_bool().expect("automated"),
            "{file}: automated ({:?})",
            mail.automated
        );
        for text in strings(&case["body_contains"]) {
            assert!(
                mail.body.contains(&text),
                "{file}: body lacks {text:?}:\n{}",
                mail.body
            );
        }
        for text in strings(&case["body_excludes"]) {
            assert!(
                !mail.body.contains(&text),
                "{file}: body has {text:?}:\n{}",
                mail.body
            );
        }
        let quoted = mail.quoted.clone().unwrap_or_default();
        for text in strings(&case["quoted_contains"]) {
            assert!(
                quoted.contains(&text),
                "{file}: quoted part lacks {text:?}:\n{quoted}"
            );
        }
        if strings(&case["quoted_contains"]).is_empty() {
            assert!(
                mail.quoted.is_none(),
                "{file}: nothing is quoted, got {quoted:?}"
            );
        }
        let files: Vec<(String, String, bool)> = mail
            .files
            .iter()
            .map(|f| {
                (
                    f.filename.clone(),
                    attachment::sniff(&f.data, &f.declared_type),
                    f.inline,
                )
            })
            .collect();
        let wanted: Vec<(String, String, bool)> = case["attachments"]
            .as_array()
            .expect("attachments")
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().expect("name").to_string(),
                    a["content_type"].as_str().expect("type").to_string(),
                    a["inline"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(files, wanted, "{file}: attachments");
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Malformed mail (flipped bytes, cuts, stray headers and boundaries,
/// random bytes) never panics the parser, and what it returns is sane.
#[test]
fn malformed_mail_never_panics_the_parser() {
    let mut rng = XorShift(0x5eed_cafe_f00d_d00d);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read(e.path()).expect("read"))
        .collect();
    corpus.push(Vec::new());
    let inserts: [&[u8]; 6] = [
        b"\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n",
        b"\r\n--x\r\n",
        b"=?UTF-8?B?////?=",
        b"=\r\n=ZZ=",
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@",
        b"\xff\xfe\x00",
    ];
    let mut parsed = 0;
    for round in 0..4000 {
        let mut mail = corpus[round % corpus.len()].clone();
        match rng.below(4) {
            0 => {
                for _ in 0..=rng.below(20) {
                    if !mail.is_empty() {
                        let at = rng.below(mail.len());
                        mail[at] = rng.next() as u8;
                    }
                }
            }
            1 => {
                let cut = rng.below(mail.len() + 1);
                mail.truncate(cut);
            }
            2 => {
                let at = rng.below(mail.len() + 1);
                let insert = inserts[rng.below(inserts.len())];
                mail.splice(at..at, insert.iter().copied());
            }
            _ => {
                mail = (0..rng.below(2048)).map(|_| rng.next() as u8).collect();
            }
        }
        if let Some(result) = parse::parse(&mail) {
            parsed += 1;
            assert!(result.from_email.as_deref().is_none_or(|e| e.contains('@')));
            for file in &result.files {
                assert!(file.data.len() <= attachment::MAX_BYTES);
                let name = attachment::clean_filename(&file.filename);
                assert!(!name.contains('/') && !name.is_empty());
            }
        }
    }
    assert!(parsed > 1000, "most mutations still parse ({parsed})");
}

#[test]
fn reply_addresses_are_signed_and_checked() {
    let signer = ReplySigner::new(
        b"a-secret-key-of-enough-length-0123456789",
        "Acme <help@acme.test>",
    );
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let address = signer.address(7, 42, today);
    assert!(address.starts_with("help+note-7-42-") && address.ends_with("@acme.test"));
    let token = ReplySigner::find_token(&[address.to_uppercase()]).expect("token");
    assert_eq!(signer.verify(&token, today), Ok((7, 42)));
    // Another conversation or user with the same signature is a forgery.
    let forged = token.replacen("-42-", "-43-", 1);
    assert_eq!(signer.verify(&forged, today), Err(Refusal::BadSignature));
    let forged = token.replacen("note-7-", "note-8-", 1);
    assert_eq!(signer.verify(&forged, today), Err(Refusal::BadSignature));
    // Another server's key does not sign for this one.
    let other = ReplySigner::new(b"another-secret-key-of-enough-length-000", "help@acme.test");
    assert_eq!(other.verify(&token, today), Err(Refusal::BadSignature));
    assert_eq!(
        signer.verify(&token, today + chrono::TimeDelta::days(91)),
        Err(Refusal::Expired)
    );
    assert_eq!(signer.verify("note-7-42", today), Err(Refusal::Malformed));
    assert_eq!(
        signer.verify("note-x-y-z-00", today),
        Err(Refusal::Malformed)
    );
    assert!(
        ReplySigner::find_token(&["help@acme.test".into(), "help+sales@acme.test".into()])
            .is_none()
    );
}
