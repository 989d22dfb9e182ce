use super::*;
use p384::ecdsa::signature::Signer;
use ring::signature::{Ed25519KeyPair, KeyPair};

fn ed() -> (Ed25519KeyPair, String) {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[3; 32]).unwrap();
    let record = format!(
        "v=MCPv1; k=ed25519; p={}",
        STANDARD.encode(pair.public_key().as_ref())
    );
    (pair, record)
}

fn p384() -> (p384::ecdsa::SigningKey, String) {
    let sk = p384::ecdsa::SigningKey::from_slice(&[5; 48]).unwrap();
    let pk = sk.verifying_key().to_encoded_point(true);
    let record = format!("v=MCPv1; k=ecdsap384; p={}", STANDARD.encode(pk.as_bytes()));
    (sk, record)
}

#[test]
fn ed25519_and_p384_proofs_verify_over_the_exact_timestamp() {
    let ts = "2026-12-02T06:00:00Z";
    let (pair, record) = ed();
    let keys = keys_in(&[record], "DNS TXT records").unwrap();
    verify(&keys, ts, pair.sign(ts.as_bytes()).as_ref()).unwrap();
    let (sk, record) = p384();
    let keys = keys_in(&["some other text".into(), record], "DNS TXT records").unwrap();
    let sig: p384::ecdsa::Signature = sk.sign(ts.as_bytes());
    verify(&keys, ts, &sig.to_bytes()).unwrap();
    // A high-S form of the same signature is valid too (Go accepts it).
    let (r, s) = sig.split_scalars();
    let high = p384::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    verify(&keys, ts, &high.to_bytes()).unwrap();
}

#[test]
fn a_stale_record_is_named_by_its_fingerprint() {
    let (pair, record) = ed();
    let other = Ed25519KeyPair::from_seed_unchecked(&[4; 32]).unwrap();
    let ts = "2026-12-02T06:00:00Z";
    let keys = keys_in(std::slice::from_ref(&record), "DNS TXT records").unwrap();
    let err = verify(&keys, ts, other.sign(ts.as_bytes()).as_ref()).unwrap_err();
    let fp = keys[0].fingerprint();
    assert!(fp.starts_with("ed25519:") && fp.len() == 16, "{fp}");
    assert_eq!(
        err,
        format!(
            "signature verification failed (tried published key {fp}); if this is not the key you are signing with, the published record may be stale"
        )
    );
    let third = Ed25519KeyPair::from_seed_unchecked(&[9; 32]).unwrap();
    let second = format!(
        "v=MCPv1; k=ed25519; p={}",
        STANDARD.encode(third.public_key().as_ref())
    );
    let keys = keys_in(&[record.clone(), second], "DNS TXT records").unwrap();
    let err = verify(&keys, ts, other.sign(ts.as_bytes()).as_ref()).unwrap_err();
    assert!(
        err.starts_with(
            "signature verification failed against all 2 published keys (tried: ed25519:"
        ),
        "{err}"
    );
    // A key that cannot even take the signature (a 64-byte signature for a P-384 key) is reported as such,
    // as officially (the last structural error wins).
    let (_, p384_record) = p384();
    let keys = keys_in(&[record, p384_record], "DNS TXT records").unwrap();
    let err = verify(&keys, ts, other.sign(ts.as_bytes()).as_ref()).unwrap_err();
    assert_eq!(err, "invalid signature size for ECDSA P-384");
    let _ = pair;
}

#[test]
fn request_checks_in_the_official_order() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T06:00:00Z")
        .unwrap()
        .timestamp();
    let ok = |d: &str, ts: &str, sig: &str| check_request(d, ts, sig, now);
    assert!(ok("example.com", "2026-12-02T06:00:10Z", "abcd").is_ok());
    assert_eq!(
        ok("localhost", "2026-12-02T06:00:00Z", "ab").unwrap_err(),
        "invalid domain format"
    );
    assert_eq!(
        ok("127.0.0.1", "2026-12-02T06:00:00Z", "ab").unwrap_err(),
        "invalid domain format"
    );
    assert_eq!(
        ok("a_b.com", "2026-12-02T06:00:00Z", "ab").unwrap_err(),
        "invalid domain format"
    );
    assert!(
        ok("me.GitHub.io", "2026-12-02T06:00:00Z", "ab")
            .unwrap_err()
            .starts_with("github.io domains")
    );
    assert!(
        ok("example.com", "yesterday", "ab")
            .unwrap_err()
            .starts_with("invalid timestamp format: ")
    );
    // A replayed proof: its timestamp is older than the window.
    assert_eq!(
        ok("example.com", "2026-12-02T05:59:44Z", "ab").unwrap_err(),
        "timestamp outside valid window (±15 seconds)"
    );
    assert!(
        ok("example.com", "2026-12-02T05:59:45Z", "ab").is_ok(),
        "the bound is inclusive"
    );
    assert!(
        ok("example.com", "2026-12-02T06:00:00Z", "abc")
            .unwrap_err()
            .starts_with("invalid signature format, must be hex: ")
    );
}

#[test]
fn records_are_read_as_officially() {
    assert_eq!(
        keys_in(&["v=spf1 -all".into()], "DNS TXT records").unwrap_err(),
        "no MCP public key found in DNS TXT records"
    );
    assert_eq!(
        keys_in(&["v=MCPv1; k=rsa; p=AAAA".into()], "HTTP response").unwrap_err(),
        "unsupported public key algorithm: rsa"
    );
    assert_eq!(
        keys_in(&["v=MCPv1; k=ed25519; p=AAAA".into()], "x").unwrap_err(),
        "invalid Ed25519 public key size"
    );
    // Several records: unreadable ones are skipped; all unreadable is its own error.
    let (_, good) = ed();
    assert_eq!(
        keys_in(&["v=MCPv1; k=ed25519; p=AAAA".into(), good], "x")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        keys_in(
            &[
                "v=MCPv1; k=ed25519; p=AAAA".into(),
                "v=MCPv1; k=x; p=AAAA".into()
            ],
            "x"
        )
        .unwrap_err(),
        "no valid MCP public key found"
    );
    let uncompressed = format!("v=MCPv1; k=ecdsap384; p={}", STANDARD.encode([4u8; 49]));
    assert!(
        keys_in(&[uncompressed], "x")
            .unwrap_err()
            .contains("must be compressed")
    );
    assert_eq!(reversed("api.example.com"), "com.example.api");
}
