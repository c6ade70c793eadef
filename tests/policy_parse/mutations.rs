//! For every policy object: a valid instance, then each breaking edit
//! (missing required member, wrong JSON type, invalid value, duplicated key,
//! added member), which must fail with exactly one problem at the right JSON
//! path and line:column. Allowed variations must parse.

use super::{line_col, ok, problems};
use imgsig::policy::{KeySource, Requirement, SignedIdentity};
use At::{First, Last, Obj};

/// Where the problem must be, inside the (mutated) object's text.
#[derive(Clone, Copy)]
enum At {
    /// The object's opening `{` (missing members, whole-object rules).
    Obj,
    /// The first occurrence of this text.
    First(&'static str),
    /// The last occurrence (duplicated keys).
    Last(&'static str),
}

struct Case {
    obj: String,
    /// Path relative to the object ("" = the object itself, ".keyPath", "[0]", …).
    rel: &'static str,
    at: At,
    msg: &'static str,
}

/// `cases![OBJ => REL @ AT, "part of the message"; …]` (a table rustfmt leaves alone).
macro_rules! cases {
    ($($obj:expr => $rel:literal @ $at:expr, $msg:literal;)*) => {
        [$(Case { obj: String::from($obj), rel: $rel, at: $at, msg: $msg }),*]
    };
}

/// `s` with the first `from` replaced by `to` (`from` must occur).
#[track_caller]
fn ed(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "{from:?} not in {s}");
    s.replacen(from, to, 1)
}

/// `obj` with `member` added at the end.
fn add(obj: &str, member: &str) -> String {
    let end = obj.rfind('}').unwrap();
    format!("{}, {member}{}", &obj[..end], &obj[end..])
}

/// A policy template with `@@` where the object goes, and the object's JSON path.
struct Place {
    template: &'static str,
    path: &'static str,
}

const TOP: Place = Place {
    template: "@@",
    path: "",
};
const REQUIREMENT: Place = Place {
    template: "{\n  \"default\": [\n    {\"type\": \"reject\"},\n    @@\n  ]\n}",
    path: "default[1]",
};
const SCOPED_REQUIREMENT: Place = Place {
    template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": {\"docker\": {\"example.com/ns\": [\n  @@]}}}",
    path: r#"transports.docker["example.com/ns"][0]"#,
};
const IDENTITY: Place = Place {
    template:
        "{\"default\": [\n  {\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/nonexistent\",\n   \
               \"signedIdentity\": @@}]}",
    path: "default[0].signedIdentity",
};
const BASE_LAYER_IDENTITY: Place = Place {
    template: "{\"default\": [{\"type\": \"signedBaseLayer\",\n  \"baseLayerIdentity\": @@}]}",
    path: "default[0].baseLayerIdentity",
};

impl Place {
    fn doc(&self, obj: &str) -> String {
        self.template.replace("@@", obj)
    }

    /// `valid` parses here, and each case fails with exactly its one problem.
    #[track_caller]
    fn check(&self, valid: &str, cases: &[Case]) {
        ok(&self.doc(valid));
        let start = self.template.find("@@").unwrap();
        for c in cases {
            let doc = self.doc(&c.obj);
            let region = &doc[start..start + c.obj.len()];
            let rel = match c.at {
                Obj => 0,
                First(m) => region.find(m).unwrap_or_else(|| panic!("{m:?} not in {region}")),
                Last(m) => region.rfind(m).unwrap(),
            };
            let (line, column) = line_col(&doc, start + rel);
            let path = format!("{}{}", self.path, c.rel).trim_start_matches('.').to_owned();
            let got = problems(&doc);
            let listing: Vec<String> = got.iter().map(ToString::to_string).collect();
            assert!(
                got.len() == 1
                    && got[0].path == path
                    && (got[0].line, got[0].column) == (line, column)
                    && got[0].message.contains(c.msg),
                "{doc}\nexpected exactly: {path} (line {line}, column {column}): …{}…\ngot:\n{}",
                c.msg,
                listing.join("\n")
            );
        }
    }

    #[track_caller]
    fn accepts(&self, objs: &[&str]) {
        for obj in objs {
            ok(&self.doc(obj));
        }
    }
}

#[test]
fn top_level() {
    let v = "{\n  \"default\": [{\"type\": \"reject\"}],\n  \
             \"transports\": {\"docker\": {\"\": [{\"type\": \"reject\"}]}}\n}";
    let (d, t) = (r#"[{"type": "reject"}],"#, r#"{"docker": {"": [{"type": "reject"}]}}"#);
    #[rustfmt::skip]
    TOP.check(v, &cases![
        "{\n  \"transports\": {}\n}" => "" @ Obj, r#"missing required key "default""#;
        ed(v, d, "17,") => ".default" @ First("17"), "must be an array, not a number";
        ed(v, d, "{},") => ".default" @ First("{},"), "must be an array, not an object";
        ed(v, d, "null,") => ".default" @ First("null"), "must be an array, not null";
        ed(v, d, "[],") => ".default" @ First("[]"), "the list of requirements must not be empty";
        ed(v, t, "17") => ".transports" @ First("17"), "must be an object, not a number";
        ed(v, t, "[]") => ".transports" @ First("[]"), "must be an object, not an array";
        ed(v, t, "null") => ".transports" @ First("null"), "must be an object, not null";
        add(v, r#""zz": 1"#) => ".zz" @ First(r#""zz""#), r#"unknown key "zz" in the top-level object"#;
        add(v, r#""default": [{"type": "reject"}]"#) => ".default" @ Last(r#""default""#), r#"duplicate key "default""#;
        add(v, r#""transports": {}"#) => ".transports" @ Last(r#""transports""#), "duplicate key";
        "[]" => "" @ Obj, "must be an object, not an array";
        "null" => "" @ Obj, "must be an object, not null";
    ]);
    let got = problems(r#"{"Default": [{"type": "reject"}]}"#);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].path.as_str(), got[0].column), ("", 1));
    assert_eq!((got[1].path.as_str(), got[1].column), ("Default", 2));
    TOP.accepts(&[
        r#"{"default": [{"type": "reject"}]}"#,
        r#"{"default": [{"type": "reject"}], "transports": {}}"#,
        r#"{"transports": {"docker": {}}, "default": [{"type": "reject"}]}"#,
    ]);
}

#[test]
fn transports_map() {
    let place = Place {
        template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": @@}",
        path: "transports",
    };
    let v = "{\"docker\": {\"\": [{\"type\": \"reject\"}]},\n  \
             \"my-transport\": {\"any thing /at: all\": [{\"type\": \"reject\"}]}}";
    let (s, u) = (
        r#"{"": [{"type": "reject"}]}"#,
        r#""any thing /at: all": [{"type": "reject"}]"#,
    );
    #[rustfmt::skip]
    place.check(v, &cases![
        ed(v, s, "17") => ".docker" @ First("17"), "must be an object, not a number";
        ed(v, s, "[]") => ".docker" @ First("[]"), "must be an object, not an array";
        ed(v, s, "null") => ".docker" @ First("null"), "must be an object, not null";
        add(v, r#""docker": {}"#) => ".docker" @ Last(r#""docker""#), r#"duplicate key "docker""#;
        // Unknown transports are accepted, but their requirements are still checked.
        ed(v, u, r#""x": [{"type": "nope"}]"#)
            => ".my-transport.x[0].type" @ First(r#""nope""#), "unknown requirement type";
    ]);
}

#[test]
fn scope_maps() {
    let place = Place {
        template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": {\"docker\":\n  @@}}",
        path: "transports.docker",
    };
    let v = r#"{"example.com/ns": [{"type": "reject"}], "": [{"type": "reject"}]}"#;
    let r = r#"[{"type": "reject"}]"#;
    #[rustfmt::skip]
    place.check(v, &cases![
        ed(v, r, "17") => r#"["example.com/ns"]"# @ First("17"), "must be an array, not a number";
        ed(v, r, "{}") => r#"["example.com/ns"]"# @ First("{}"), "must be an array, not an object";
        ed(v, r, "null") => r#"["example.com/ns"]"# @ First("null"), "must be an array, not null";
        ed(v, r, "[]") => r#"["example.com/ns"]"# @ First("[]"), "must not be empty";
        ed(v, r#""": [{"type": "reject"}]"#, r#""": []"#) => r#"[""]"# @ First("[]"), "must not be empty";
        ed(v, r, "[17]") => r#"["example.com/ns"][0]"# @ First("17"), "must be an object, not a number";
        add(v, r#""example.com/ns": []"#) => r#"["example.com/ns"]"# @ Last(r#""example.com/ns""#), "duplicate key";
        add(v, r#""": [{"type": "reject"}]"#) => r#"[""]"# @ Last(r#""":"#), r#"duplicate key """#;
    ]);
}

#[test]
fn scopes_are_validated_per_transport() {
    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let doc = |transport: &str, scope: &str| {
        let head = "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": ";
        format!("{head}{{\"{transport}\": {{\n   \"{scope}\": [{{\"type\": \"reject\"}}]}}}}}}")
    };
    let daemon_id = format!("sha256:{HEX}");
    let bad: &[(&str, &str)] = &[
        ("dir", "relative/dir"),
        ("dir", "/"),
        ("dir", "/trailing/"),
        ("dir", "/a/./b"),
        ("dir", "/a//b"),
        ("dir", "/a/../b"),
        ("oci", "relative:tag"),
        ("oci", "/a//b:tag"),
        ("oci-archive", "/"),
        ("sif", "image.sif"),
        ("docker-archive", "/some/file.tar"),
        ("tarball", "/some/file.tar"),
        ("docker-daemon", &daemon_id),
        ("containers-storage", "docker.io/library/busybox"),
        ("containers-storage", "[relative]busybox"),
        ("atomic", "host/ns:x/stream"),
        ("atomic", "host/ns/stream/extra"),
    ];
    for &(transport, scope) in bad {
        let d = doc(transport, scope);
        let got = problems(&d);
        let want = line_col(&d, d.find(&format!("\"{scope}\"")).unwrap());
        assert_eq!(got.len(), 1, "{d}\n{got:?}");
        assert_eq!(got[0].path, format!("transports.{transport}[{scope:?}]"), "{d}");
        assert_eq!((got[0].line, got[0].column), want, "{d}");
        let prefix = format!("invalid scope {scope:?} for the {transport:?} transport: ");
        assert!(got[0].message.starts_with(&prefix), "{}", got[0]);
    }
    let good: &[(&str, &str)] = &[
        ("docker", "*.example.com"),
        ("docker", "not even a reference"),
        ("dir", "/var/lib/images"),
        ("oci", "/var/lib/oci:tag"),
        ("oci-archive", "/a.tar"),
        ("sif", "/images/x.sif"),
        ("atomic", "hostname:5000/ns/stream:tag"),
        ("atomic", "*.example.com"),
        ("docker-daemon", "docker.io/library/busybox:latest"),
        (
            "containers-storage",
            "[overlay@/var/lib/containers/storage]docker.io/library/busybox:latest",
        ),
        ("docker-archive", ""),
        ("tarball", ""),
        ("dir", ""),
        ("some-future-transport", "../anything"),
        ("ostree", "whatever"),
    ];
    for &(transport, scope) in good {
        let p = ok(&doc(transport, scope));
        let t = &p.transports[0];
        assert_eq!((t.name.as_str(), t.scopes[0].scope.as_str()), (transport, scope));
    }
}

#[test]
fn unit_requirements() {
    for ty in ["insecureAcceptAnything", "reject"] {
        let v = format!(r#"{{"type": "{ty}"}}"#);
        let quoted = format!("\"{ty}\"");
        #[rustfmt::skip]
        REQUIREMENT.check(&v, &cases![
            add(&v, r#""x": 1"#) => ".x" @ First(r#""x""#), r#"unknown key "x" in a"#;
            add(&v, &format!(r#""type": "{ty}""#)) => ".type" @ Last(r#""type""#), r#"duplicate key "type""#;
            "{}" => "" @ Obj, r#"missing required key "type""#;
            r#"{"Type": "reject", "type": 17}"# => ".type" @ First("17"), "must be a string, not a number";
            r#"{"type": null}"# => ".type" @ First("null"), "must be a string, not null";
            r#"{"type": "Reject"}"# => ".type" @ First(r#""Reject""#), r#"unknown requirement type "Reject""#;
            "17" => "" @ Obj, "must be an object, not a number";
            quoted.as_str() => "" @ Obj, "must be an object, not a string";
            "null" => "" @ Obj, "must be an object, not null";
            // Keys are compared after unescaping, as Go's decoder does.
            add(&v, &format!(r#""\u0074ype": "{ty}""#)) => ".type" @ First(r#""\u0074"#), r#"duplicate key "type""#;
        ]);
    }
    // The pitfall named in style.md: serde's deny_unknown_fields would accept this.
    #[rustfmt::skip]
    SCOPED_REQUIREMENT.check(r#"{"type": "reject"}"#, &cases![
        r#"{"type":"reject","x":1}"# => ".x" @ First(r#""x""#), r#"unknown key "x" in a reject requirement"#;
    ]);
}

#[test]
fn signed_by() {
    let v = "{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/nonexistent/key.gpg\",\n     \
             \"signedIdentity\": {\"type\": \"matchRepository\"}}";
    let (kp, path, si) = (
        r#""keyPath": "/nonexistent/key.gpg""#,
        r#""/nonexistent/key.gpg""#,
        r#"{"type": "matchRepository"}"#,
    );
    #[rustfmt::skip]
    let cases = cases![
        ed(v, r#""keyType": "GPGKeys", "#, "") => "" @ Obj, r#"missing required key "keyType""#;
        ed(v, r#""GPGKeys""#, r#""bogus""#) => ".keyType" @ First(r#""bogus""#), r#"unknown keyType "bogus""#;
        ed(v, r#""GPGKeys""#, r#""""#) => ".keyType" @ First(r#""""#), r#"unknown keyType """#;
        ed(v, r#""GPGKeys""#, r#""gpgkeys""#) => ".keyType" @ First(r#""gpgkeys""#), "unknown keyType";
        ed(v, r#""GPGKeys""#, "17") => ".keyType" @ First("17"), "must be a string";
        ed(v, r#""GPGKeys""#, "null") => ".keyType" @ First("null"), "must be a string, not null";
        ed(v, &format!("{kp},"), "")
            => "" @ Obj, "exactly one of keyPath, keyPaths and keyData must be present; none is";
        add(v, r#""keyData": "YWJj""#) => ".keyData" @ First(r#""YWJj""#), "keyData conflicts with keyPath";
        add(v, r#""keyPaths": ["/a"]"#) => ".keyPaths" @ First(r#"["/a"]"#), "keyPaths conflicts with keyPath";
        ed(v, kp, r#""keyData": "YWJj", "keyPaths": ["/a"]"#)
            => ".keyPaths" @ First("["), "keyPaths conflicts with keyData";
        ed(v, path, r#""""#) => ".keyPath" @ First(r#""""#), "must not be empty";
        ed(v, path, "17") => ".keyPath" @ First("17"), "must be a string";
        ed(v, path, "null") => ".keyPath" @ First("null"), "must be a string, not null";
        ed(v, kp, r#""keyPaths": 17"#) => ".keyPaths" @ First("17"), "must be an array";
        ed(v, kp, r#""keyPaths": null"#) => ".keyPaths" @ First("null"), "must be an array, not null";
        ed(v, kp, r#""keyPaths": ["/a", 17]"#) => ".keyPaths[1]" @ First("17"), "must be a string";
        ed(v, kp, r#""keyData": 17"#) => ".keyData" @ First("17"), "must be a string";
        ed(v, kp, r#""keyData": "this is invalid base64""#) => ".keyData" @ First(r#""this"#), "standard base64";
        ed(v, kp, r#""keyData": "YQ""#) => ".keyData" @ First(r#""YQ""#), "standard base64";
        ed(v, kp, r#""keyData": "YWJj=""#) => ".keyData" @ First(r#""YWJj=""#), "standard base64";
        ed(v, kp, r#""keyData": "YW-_""#) => ".keyData" @ First(r#""YW-_""#), "standard base64";
        ed(v, si, r#""matchRepository""#) => ".signedIdentity" @ First(r#""match"#), "must be an object, not a string";
        ed(v, si, "null") => ".signedIdentity" @ First("null"), "must be an object, not null";
        ed(v, si, "{}") => ".signedIdentity" @ First("{}"), r#"missing required key "type""#;
        add(v, r#""keyId": "x""#) => ".keyId" @ First(r#""keyId""#), r#"unknown key "keyId" in a signedBy requirement"#;
        add(v, r#""type": "signedBy""#) => ".type" @ Last(r#""type""#), "duplicate key";
        add(v, r#""keyType": "GPGKeys""#) => ".keyType" @ Last(r#""keyType""#), "duplicate key";
        add(v, kp) => ".keyPath" @ Last(r#""keyPath""#), "duplicate key";
        add(v, &format!(r#""signedIdentity": {si}"#))
            => ".signedIdentity" @ Last(r#""signedIdentity""#), "duplicate key";
        ed(v, kp, r#""keyData": "", "keyData": """#) => ".keyData" @ Last(r#""keyData""#), "duplicate key";
        ed(v, r#""signedBy""#, r#""signedby""#) => ".type" @ First(r#""signedby""#), "unknown requirement type";
    ];
    REQUIREMENT.check(v, &cases);
    SCOPED_REQUIREMENT.check(v, &cases);

    // Allowed variations.
    let p = ok(&REQUIREMENT.doc(&ed(v, &format!(",\n     \"signedIdentity\": {si}"), "")));
    let Requirement::SignedBy(sb) = &p.default[1] else {
        panic!()
    };
    assert_eq!(sb.signed_identity, SignedIdentity::MatchRepoDigestOrExact);
    for key_type in ["GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs"] {
        ok(&REQUIREMENT.doc(&ed(v, "GPGKeys", key_type)));
    }
    let p = ok(&REQUIREMENT.doc(&ed(v, kp, r#""keyPaths": []"#)));
    let Requirement::SignedBy(sb) = &p.default[1] else {
        panic!()
    };
    assert_eq!(sb.key_source, KeySource::Paths(vec![]));
    REQUIREMENT.accepts(&[
        &ed(v, kp, r#""keyData": """#),
        &ed(v, kp, r#""keyData": "YW\nJj\r\n""#),
        &ed(v, kp, r#""keyData": "YR==""#),
        &ed(v, kp, r#""keyPaths": ["/a", ""]"#),
    ]);
}

#[test]
fn signed_base_layer() {
    let bli = r#"{"type": "exactRepository", "dockerRepository": "registry.access.redhat.com/rhel7/rhel"}"#;
    let v = format!("{{\"type\": \"signedBaseLayer\",\n  \"baseLayerIdentity\": {bli}}}");
    let v = v.as_str();
    #[rustfmt::skip]
    REQUIREMENT.check(v, &cases![
        r#"{"type": "signedBaseLayer"}"# => "" @ Obj, r#"missing required key "baseLayerIdentity""#;
        ed(v, bli, r#""this is invalid""#)
            => ".baseLayerIdentity" @ First(r#""this"#), "must be an object, not a string";
        ed(v, bli, "null") => ".baseLayerIdentity" @ First("null"), "must be an object, not null";
        ed(v, "\"registry.access.redhat.com/rhel7/rhel\"", r#""UPPER""#)
            => ".baseLayerIdentity.dockerRepository" @ First(r#""UPPER""#), "must be lowercase";
        add(v, r#""signedIdentity": {"type": "matchExact"}"#)
            => ".signedIdentity" @ First(r#""signedIdentity""#), r#"unknown key "signedIdentity" in a signedBaseLayer"#;
        add(v, r#""type": "signedBaseLayer""#) => ".type" @ Last(r#""type""#), "duplicate key";
        add(v, &format!(r#""baseLayerIdentity": {bli}"#))
            => ".baseLayerIdentity" @ Last(r#""baseLayerIdentity""#), "duplicate";
    ]);
    assert!(matches!(
        ok(&REQUIREMENT.doc(v)).default[1],
        Requirement::SignedBaseLayer
    ));
}

#[test]
fn sigstore_signed() {
    let v =
        "{\"type\": \"sigstoreSigned\", \"keyData\": \"YWJj\",\n  \"signedIdentity\": {\"type\": \"matchRepository\"}}";
    let fulcio =
        r#""fulcio": {"caPath": "/ca.pem", "oidcIssuer": "https://github.com/login/oauth", "subjectEmail": "a@b.c"}"#;
    let (kd, si) = (r#""keyData": "YWJj""#, r#"{"type": "matchRepository"}"#);
    #[rustfmt::skip]
    REQUIREMENT.check(v, &cases![
        ed(v, &format!("{kd},"), "")
            => "" @ Obj, "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be present; none is";
        add(v, r#""keyPath": "/foo/bar""#) => ".keyPath" @ First(r#""/foo/bar""#), "keyPath conflicts with keyData";
        ed(v, kd, &format!(r#"{fulcio}, "rekorPublicKeyPath": "/r", {kd}"#))
            => ".keyData" @ First(r#""YWJj""#), "keyData conflicts with fulcio";
        ed(v, kd, r#""keyPath": 17"#) => ".keyPath" @ First("17"), "must be a string";
        ed(v, kd, r#""keyData": 17"#) => ".keyData" @ First("17"), "must be a string";
        ed(v, kd, r#""keyData": "this is invalid base64""#) => ".keyData" @ First(r#""this"#), "standard base64";
        ed(v, kd, r#""keyPaths": []"#) => ".keyPaths" @ First("[]"), "must not be empty";
        ed(v, kd, r#""keyDatas": []"#) => ".keyDatas" @ First("[]"), "must not be empty";
        ed(v, kd, r#""keyDatas": ["YWJj", "%"]"#) => ".keyDatas[1]" @ First(r#""%""#), "standard base64";
        ed(v, kd, r#""keyPaths": null"#) => ".keyPaths" @ First("null"), "must be an array, not null";
        add(v, r#""rekorPublicKeyPath": "/r", "rekorPublicKeyData": """#)
            => ".rekorPublicKeyData" @ First(r#""""#), "at most one of";
        add(v, r#""rekorPublicKeyPath": 17"#) => ".rekorPublicKeyPath" @ First("17"), "must be a string";
        add(v, r#""rekorPublicKeyData": "not base64""#) => ".rekorPublicKeyData" @ First(r#""not"#), "standard base64";
        add(v, r#""rekorPublicKeyPaths": []"#) => ".rekorPublicKeyPaths" @ First("[]"), "must not be empty";
        add(v, r#""rekorPublicKeyDatas": []"#) => ".rekorPublicKeyDatas" @ First("[]"), "must not be empty";
        ed(v, si, r#""this is invalid""#) => ".signedIdentity" @ First(r#""this"#), "must be an object";
        ed(v, si, "null") => ".signedIdentity" @ First("null"), "must be an object, not null";
        add(v, r#""unexpected": 1"#)
            => ".unexpected" @ First(r#""unexpected""#), r#"unknown key "unexpected" in a sigstoreSigned requirement"#;
        add(v, r#""keyType": "GPGKeys""#) => ".keyType" @ First(r#""keyType""#), "unknown key";
        add(v, kd) => ".keyData" @ Last(r#""keyData""#), "duplicate key";
        add(v, r#""type": "sigstoreSigned""#) => ".type" @ Last(r#""type""#), "duplicate key";
    ]);

    let f = format!("{{\"type\": \"sigstoreSigned\",\n  {fulcio},\n  \"rekorPublicKeyPath\": \"/rekor.pub\"}}");
    let f = f.as_str();
    let (fo, oidc) = (&fulcio[10..], r#""oidcIssuer": "https://github.com/login/oauth", "#);
    let ca = r#""caPath": "/ca.pem""#;
    #[rustfmt::skip]
    REQUIREMENT.check(f, &cases![
        ed(f, ",\n  \"rekorPublicKeyPath\": \"/rekor.pub\"", "")
            => ".fulcio" @ First("{\"caPath"), "required when fulcio is used";
        ed(f, &format!("{ca}, "), "") => ".fulcio" @ First("{\"oidc"), "one of caPath and caData must be present";
        ed(f, ca, r#""caPath": """#) => ".fulcio" @ First("{\"caPath"), "one of caPath and caData must be present";
        ed(f, ca, r#""caPath": "/ca.pem", "caData": "YWJj""#)
            => ".fulcio.caData" @ First(r#""caData""#), "cannot be used together";
        ed(f, oidc, "") => ".fulcio" @ First("{\"caPath"), r#"missing required key "oidcIssuer""#;
        ed(f, r#""https://github.com/login/oauth""#, r#""""#)
            => ".fulcio.oidcIssuer" @ First(r#""""#), "must not be empty";
        ed(f, r#", "subjectEmail": "a@b.c""#, "")
            => ".fulcio" @ First("{\"caPath"), r#"missing required key "subjectEmail""#;
        ed(f, r#""a@b.c""#, "17") => ".fulcio.subjectEmail" @ First("17"), "must be a string";
        ed(f, ca, r#""caPath": "/ca.pem", "rekorURL": "x""#)
            => ".fulcio.rekorURL" @ First(r#""rekorURL""#), r#"unknown key "rekorURL" in fulcio"#;
        ed(f, ca, r#""caPath": "/ca.pem", "caPath": "/ca.pem""#)
            => ".fulcio.caPath" @ Last(r#""caPath""#), "duplicate key";
        ed(f, fo, "17") => ".fulcio" @ First("17"), "must be an object, not a number";
        ed(f, fo, "null") => ".fulcio" @ First("null"), "must be an object, not null";
        add(f, r#""pki": {"caRootsPath": "/r", "subjectEmail": "a@b"}"#)
            => ".pki" @ First(r#"{"caRootsPath""#), "pki conflicts with fulcio";
    ]);

    let p =
        "{\"type\": \"sigstoreSigned\",\n  \"pki\": {\"caRootsPath\": \"/roots.pem\", \"subjectEmail\": \"a@b.c\"}}";
    let (roots, email) = (r#""caRootsPath": "/roots.pem""#, r#", "subjectEmail": "a@b.c""#);
    #[rustfmt::skip]
    REQUIREMENT.check(p, &cases![
        add(p, r#""rekorPublicKeyPath": "/r""#) => ".rekorPublicKeyPath" @ First(r#""/r""#), "not supported with pki";
        ed(p, &format!("{roots}, "), "")
            => ".pki" @ First("{\"subject"), "one of caRootsPath and caRootsData must be present";
        ed(p, roots, &format!(r#"{roots}, "caRootsData": "YWJj""#))
            => ".pki.caRootsData" @ First(r#""caRootsData""#), "cannot be used together";
        ed(p, roots, &format!(r#"{roots}, "caIntermediatesPath": "/i", "caIntermediatesData": "YWJj""#))
            => ".pki.caIntermediatesData" @ First(r#""caIntermediatesData""#), "cannot be used together";
        ed(p, email, "") => ".pki" @ First("{\"caRoots"), "at least one of subjectEmail and subjectHostname";
        ed(p, r#""a@b.c""#, r#""""#)
            => ".pki" @ First("{\"caRoots"), "at least one of subjectEmail and subjectHostname";
        ed(p, roots, &format!(r#"{roots}, "oidcIssuer": "x""#))
            => ".pki.oidcIssuer" @ First(r#""oidcIssuer""#), r#"unknown key "oidcIssuer" in pki"#;
    ]);

    // Allowed variations, including c/image's treatment of "" paths as absent.
    REQUIREMENT.accepts(&[
        &ed(v, &format!(",\n  \"signedIdentity\": {si}"), ""),
        &ed(v, kd, r#""keyPath": "/k""#),
        &ed(v, kd, r#""keyPaths": ["/a", "/b"]"#),
        &ed(v, kd, r#""keyDatas": ["YWJj", ""]"#),
        &ed(v, kd, r#""keyPath": "", "keyData": "YWJj""#),
        &add(v, r#""rekorPublicKeyPaths": ["/r1", "/r2"]"#),
        &add(v, r#""rekorPublicKeyDatas": ["YWJj"]"#),
        &add(v, r#""rekorPublicKeyPath": "", "rekorPublicKeyData": "YWJj""#),
        &ed(f, ca, r#""caData": "YWJj""#),
        &ed(f, ca, r#""caPath": "", "caData": "YWJj""#),
        &ed(p, r#""subjectEmail": "a@b.c""#, r#""subjectHostname": "example.com""#),
        &ed(p, roots, r#""caRootsData": "YWJj", "caIntermediatesPath": "/i""#),
    ]);
    assert!(matches!(
        ok(&REQUIREMENT.doc(v)).default[1],
        Requirement::SigstoreSigned(_)
    ));
}

#[test]
fn simple_identities() {
    for ty in ["matchExact", "matchRepoDigestOrExact", "matchRepository"] {
        let v = format!(r#"{{"type": "{ty}"}}"#);
        #[rustfmt::skip]
        IDENTITY.check(&v, &cases![
            add(&v, r#""unknown": "foo""#) => ".unknown" @ First(r#""unknown""#), r#"unknown key "unknown" in a"#;
            add(&v, &format!(r#""type": "{ty}""#)) => ".type" @ Last(r#""type""#), r#"duplicate key "type""#;
            "{}" => "" @ Obj, r#"missing required key "type""#;
            r#"{"type": 1}"# => ".type" @ First("1"), "must be a string, not a number";
            r#"{"type": "this is invalid"}"#
                => ".type" @ First(r#""this"#), r#"unknown signedIdentity type "this is invalid""#;
            "[]" => "" @ Obj, "must be an object, not an array";
        ]);
    }
    let p = ok(&IDENTITY.doc(r#"{"type": "matchExact"}"#));
    let Requirement::SignedBy(sb) = &p.default[0] else {
        panic!()
    };
    assert_eq!(sb.signed_identity, SignedIdentity::MatchExact);
}

#[test]
fn exact_reference_and_repository() {
    let v = r#"{"type": "exactReference", "dockerReference": "library/busybox:latest"}"#;
    let r = r#""library/busybox:latest""#;
    #[rustfmt::skip]
    let cases = cases![
        r#"{"type": "exactReference"}"# => "" @ Obj, r#"missing required key "dockerReference""#;
        ed(v, r, "1") => ".dockerReference" @ First("1"), "must be a string";
        ed(v, r, r#""library/busybox""#) => ".dockerReference" @ First(r#""library"#), "neither a tag nor a digest";
        ed(v, r, r#""INVALIDUPPERCASE:latest""#) => ".dockerReference" @ First(r#""INVALID"#), "must be lowercase";
        ed(v, r, r#""""#) => ".dockerReference" @ First(r#""""#), "invalid reference";
        add(v, r#""dockerReference": "busybox:1""#)
            => ".dockerReference" @ Last(r#""dockerReference""#), "duplicate key";
        add(v, r#""dockerRepository": "busybox""#)
            => ".dockerRepository" @ First(r#""dockerRepository""#), r#"unknown key "dockerRepository""#;
        add(v, r#""type": "exactReference""#) => ".type" @ Last(r#""type""#), "duplicate key";
    ];
    IDENTITY.check(v, &cases);
    BASE_LAYER_IDENTITY.check(v, &cases);
    let p = ok(&IDENTITY.doc(v));
    let Requirement::SignedBy(sb) = &p.default[0] else {
        panic!()
    };
    let SignedIdentity::ExactReference(reference) = &sb.signed_identity else {
        panic!()
    };
    assert_eq!(reference.to_string(), "docker.io/library/busybox:latest");
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    IDENTITY.accepts(&[
        &ed(v, "library/busybox:latest", &format!("busybox@{digest}")),
        &ed(v, "library/busybox:latest", &format!("busybox:tag@{digest}")),
    ]);

    let v = r#"{"type": "exactRepository", "dockerRepository": "library/busybox:latest"}"#;
    #[rustfmt::skip]
    IDENTITY.check(v, &cases![
        r#"{"type": "exactRepository"}"# => "" @ Obj, r#"missing required key "dockerRepository""#;
        ed(v, r, "1") => ".dockerRepository" @ First("1"), "must be a string";
        ed(v, r, r#""INVALIDUPPERCASE""#) => ".dockerRepository" @ First(r#""INVALID"#), "must be lowercase";
        ed(v, r, r#""""#) => ".dockerRepository" @ First(r#""""#), "invalid reference";
        add(v, r#""dockerRepository": "x""#) => ".dockerRepository" @ Last(r#""dockerRepository""#), "duplicate key";
        add(v, r#""unexpected": 1"#) => ".unexpected" @ First(r#""unexpected""#), "unknown key";
    ]);
    IDENTITY.accepts(&[&ed(v, "library/busybox:latest", "busybox")]);
}

#[test]
fn remap_identity() {
    let v = "{\"type\": \"remapIdentity\",\n  \
             \"prefix\": \"example.com/docker-library\", \"signedPrefix\": \"docker.io/library\"}";
    let (pre, signed) = (r#""example.com/docker-library""#, r#""docker.io/library""#);
    #[rustfmt::skip]
    let mut cases = Vec::from(cases![
        ed(v, &format!(r#""prefix": {pre}, "#), "") => "" @ Obj, r#"missing required key "prefix""#;
        ed(v, &format!(r#", "signedPrefix": {signed}"#), "") => "" @ Obj, r#"missing required key "signedPrefix""#;
        ed(v, pre, "1") => ".prefix" @ First("1"), "must be a string";
        ed(v, signed, "1") => ".signedPrefix" @ First("1"), "must be a string";
        ed(v, pre, r#""this is invalid""#) => ".prefix" @ First(r#""this"#), "is not a valid prefix";
        add(v, r#""prefix": "example.com""#) => ".prefix" @ Last(r#""prefix""#), "duplicate key";
        add(v, r#""signedPrefix": "example.com""#) => ".signedPrefix" @ Last(r#""signedPrefix""#), "duplicate key";
        add(v, r#""unexpected": 1"#) => ".unexpected" @ First(r#""unexpected""#), "unknown key";
    ]);
    // c/image's validateIdentityRemappingPrefix test vectors.
    for bad in [
        "",
        "repo_with_underscores",
        "example.com/",
        "example.com/UPPERCASEISINVALID",
        "example.com/repo/",
        "example.com/repo:tag",
        "example.com/repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        let quoted: &'static str = Box::leak(format!("\"{bad}\"").into_boxed_str());
        cases.extend(cases![ed(v, signed, quoted) => ".signedPrefix" @ First(quoted), "not a valid prefix";]);
    }
    IDENTITY.check(v, &cases);
    for good in [
        "localhost",
        "example.com",
        "example.com:80",
        "example.com/repo",
        "example.com/ns1/ns2/ns3/repo.with.dots-dashes_underscores",
        "example.com:80/ns1/ns2/ns3/repo.with.dots-dashes_underscores",
        "shortname",
        "ns/shortname",
    ] {
        let p = ok(&IDENTITY.doc(&ed(v, "example.com/docker-library", good)));
        let Requirement::SignedBy(sb) = &p.default[0] else {
            panic!()
        };
        let want = SignedIdentity::RemapIdentity {
            prefix: good.into(),
            signed_prefix: "docker.io/library".into(),
        };
        assert_eq!(sb.signed_identity, want);
    }
}
