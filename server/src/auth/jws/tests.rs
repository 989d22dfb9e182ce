//! Every rejection of item 3 of the auth issue: alg none, HS/RS confusion, a key of another type,
//! an unknown kid, a bad signature, expired, not yet valid, wrong issuer, wrong audience.

use super::*;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::json;

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({"iss": "https://issuer.test", "aud": ["registry", "other"], "exp": now() + 60, "nbf": now() - 5, "sub": "x"})
}

fn ed_key() -> (Ed25519KeyPair, (Option<String>, Key)) {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
    let key = Key::Ed25519(pair.public_key().as_ref().to_vec());
    (pair, (Some("ed".into()), key))
}

fn ed_token(pair: &Ed25519KeyPair, header: Value, claims: &Value) -> String {
    let input = unsigned(&header, claims);
    format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
}

pub fn rsa_pair() -> RsaKeyPair {
    RsaKeyPair::from_der(include_bytes!(
        "../../../tests/fixtures/keys/test-rsa-2048.pkcs1.der"
    ))
    .unwrap()
}

fn rsa_key(pair: &RsaKeyPair) -> Key {
    let c: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
    Key::Rsa { n: c.n, e: c.e }
}

fn rs256(pair: &RsaKeyPair, header: Value, claims: &Value) -> String {
    let input = unsigned(&header, claims);
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

#[test]
fn a_good_token_of_each_key_type_verifies() {
    let (ed, edk) = ed_key();
    let t = ed_token(&ed, json!({"alg": "EdDSA", "kid": "ed"}), &claims());
    let p = parse(&t).unwrap();
    p.verify(&[edk]).unwrap();
    p.check_claims(now(), 0, Some("https://issuer.test"), Some("registry"))
        .unwrap();

    let rsa = rsa_pair();
    let t = rs256(&rsa, json!({"alg": "RS256", "kid": "r1"}), &claims());
    parse(&t)
        .unwrap()
        .verify(&[(Some("r1".into()), rsa_key(&rsa))])
        .unwrap();

    let rng = SystemRandom::new();
    let pk8 =
        EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pk8.as_ref(),
        &rng,
    )
    .unwrap();
    let input = unsigned(&json!({"alg": "ES256"}), &claims());
    let sig = ec.sign(&rng, input.as_bytes()).unwrap();
    let t = format!("{input}.{}", b64(sig.as_ref()));
    parse(&t)
        .unwrap()
        .verify(&[(None, Key::P256(ec.public_key().as_ref().to_vec()))])
        .unwrap();
}

#[test]
fn alg_none_and_hmac_are_refused_before_any_key_is_used() {
    let (_, edk) = ed_key();
    let none = format!("{}.", unsigned(&json!({"alg": "none"}), &claims()));
    assert!(matches!(
        parse(&none).unwrap().verify(std::slice::from_ref(&edk)),
        Err(JwtError::RefusedAlgorithm(_))
    ));
    // HS256 "signed" with the RSA public key's bytes, the classic confusion.
    let rsa = rsa_pair();
    let input = unsigned(&json!({"alg": "HS256", "kid": "r1"}), &claims());
    let mac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, rsa.public().as_ref()),
        input.as_bytes(),
    );
    let t = format!("{input}.{}", b64(mac.as_ref()));
    let err = parse(&t)
        .unwrap()
        .verify(&[(Some("r1".into()), rsa_key(&rsa))])
        .unwrap_err();
    assert!(
        matches!(err, JwtError::RefusedAlgorithm(ref a) if a == "HS256"),
        "{err}"
    );
}

#[test]
fn an_algorithm_that_does_not_fit_the_key_is_refused() {
    let (ed, _) = ed_key();
    let rsa = rsa_pair();
    // An EdDSA token presented to an RSA key (kid pointing at it).
    let t = ed_token(&ed, json!({"alg": "EdDSA", "kid": "r1"}), &claims());
    let err = parse(&t)
        .unwrap()
        .verify(&[(Some("r1".into()), rsa_key(&rsa))])
        .unwrap_err();
    assert!(matches!(err, JwtError::AlgorithmMismatch { .. }), "{err}");
    assert!(err.to_string().contains("RSA"), "{err}");
}

#[test]
fn unknown_kid_and_bad_signature() {
    let (ed, edk) = ed_key();
    let t = ed_token(
        &ed,
        json!({"alg": "EdDSA", "kid": "rotated-away"}),
        &claims(),
    );
    let err = parse(&t)
        .unwrap()
        .verify(std::slice::from_ref(&edk))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no key with id \"rotated-away\" (known: ed)"
    );
    let other = Ed25519KeyPair::from_seed_unchecked(&[8; 32]).unwrap();
    let t = ed_token(&other, json!({"alg": "EdDSA", "kid": "ed"}), &claims());
    assert_eq!(
        parse(&t).unwrap().verify(std::slice::from_ref(&edk)),
        Err(JwtError::BadSignature)
    );
    // A changed claim breaks the signature.
    let t = ed_token(&ed, json!({"alg": "EdDSA", "kid": "ed"}), &claims());
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[1] = b64(json!({"sub": "admin", "exp": now() + 60})
        .to_string()
        .as_bytes());
    let forged = parts.join(".");
    assert_eq!(
        parse(&forged).unwrap().verify(&[edk]),
        Err(JwtError::BadSignature)
    );
}

#[test]
fn time_issuer_and_audience_claims() {
    let (ed, _) = ed_key();
    let at = |c: Value| {
        parse(&ed_token(&ed, json!({"alg": "EdDSA"}), &c))
            .unwrap()
            .claims
            .clone()
    };
    let check = |c: Value, iss: Option<&str>, aud: Option<&str>| {
        let t = ed_token(&ed, json!({"alg": "EdDSA"}), &c);
        parse(&t).unwrap().check_claims(now(), 0, iss, aud)
    };
    let _ = at(claims());
    assert!(matches!(
        check(json!({"exp": now() - 1}), None, None),
        Err(JwtError::Expired(..))
    ));
    assert!(
        check(json!({"exp": now() - 1}), None, None)
            .unwrap_err()
            .to_string()
            .starts_with("token expired at ")
    );
    assert!(matches!(
        check(json!({"sub": "x"}), None, None),
        Err(JwtError::NoExpiry)
    ));
    assert!(matches!(
        check(json!({"exp": now() + 60, "nbf": now() + 30}), None, None),
        Err(JwtError::NotYetValid(..))
    ));
    let err = check(claims(), Some("https://other.test"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong issuer: expected https://other.test, got https://issuer.test"
    );
    let err = check(claims(), None, Some("https://registry.example")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong audience: expected https://registry.example, got [registry, other]"
    );
    assert!(
        check(
            json!({"exp": now() + 60, "aud": "registry"}),
            None,
            Some("registry")
        )
        .is_ok()
    );
}

#[test]
fn malformed_tokens() {
    assert_eq!(parse("abc").unwrap_err(), JwtError::Malformed);
    assert_eq!(parse("a.b.c.d").unwrap_err(), JwtError::Malformed);
    assert!(matches!(
        parse("!!.e30.e30").unwrap_err(),
        JwtError::Unreadable("header", _)
    ));
    let h = b64(br#"{"alg":"EdDSA"}"#);
    assert!(matches!(
        parse(&format!("{h}.{}.", b64(b"[1]"))).unwrap_err(),
        JwtError::Unreadable("claims", _)
    ));
}

#[test]
fn jwks_keys_are_read_with_their_algorithm() {
    let rsa = rsa_pair();
    let Key::Rsa { n, e } = rsa_key(&rsa) else {
        unreachable!()
    };
    let jwk = json!({"kty": "RSA", "kid": "k1", "alg": "RS256", "n": b64(&n), "e": b64(&e), "use": "sig"});
    let (kid, key) = Key::from_jwk(&jwk).unwrap();
    assert_eq!((kid.as_deref(), key.algorithm()), (Some("k1"), "RS256"));
    let lying = json!({"kty": "RSA", "alg": "HS256", "n": b64(&n), "e": b64(&e)});
    assert!(Key::from_jwk(&lying).unwrap_err().contains("HS256"));
    assert!(Key::from_jwk(&json!({"kty": "oct", "k": "c2VjcmV0"})).is_err());
}
