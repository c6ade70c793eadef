//! For every policy object: a valid instance, then each breaking edit
//! (missing required member, wrong JSON type, invalid value, duplicated key,
//! added member), which must fail with exactly one problem at the right JSON
//! path and line:column. Allowed variations must parse.

use super::{line_col, ok, problems};
use imgsig::policy::{KeySource, Requirement, SignedIdentity};

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
    /// Path relative to the object ("" = the object, ".keyPath", "[0]", …).
    rel: &'static str,
    at: At,
    msg: &'static str,
}

fn case(obj: impl Into<String>, rel: &'static str, at: At, msg: &'static str) -> Case {
    Case {
        obj: obj.into(),
        rel,
        at,
        msg,
    }
}

/// `s` with the first `from` replaced (which must occur).
#[track_caller]
fn edit(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "{from:?} not in {s}");
    s.replacen(from, to, 1)
}

/// `obj` with `member` added at the end.
#[track_caller]
fn add(obj: &str, member: &str) -> String {
    let end = obj.rfind('}').unwrap();
    format!("{}, {member}{}", &obj[..end], &obj[end..])
}

/// A policy template with `@@` where the object goes, and the object's JSON path.
struct Place {
    template: &'static str,
    path: &'static str,
}

const REQUIREMENT: Place = Place {
    template: "{\n  \"default\": [\n    {\"type\": \"reject\"},\n    @@\n  ]\n}",
    path: "default[1]",
};
const SCOPED_REQUIREMENT: Place = Place {
    template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": {\"docker\": {\"example.com/ns\": [\n  @@]}}}",
    path: "transports.docker[\"example.com/ns\"][0]",
};
const IDENTITY: Place = Place {
    template: "{\"default\": [\n  {\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/nonexistent\",\n   \"signedIdentity\": @@}]}",
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
                At::Obj => 0,
                At::First(m) => region.find(m).unwrap_or_else(|| panic!("{m:?} not in {region}")),
                At::Last(m) => region.rfind(m).unwrap(),
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
    let valid = "{\n  \"default\": [{\"type\": \"reject\"}],\n  \"transports\": {\"docker\": {\"\": [{\"type\": \"reject\"}]}}\n}";
    let top = Place {
        template: "@@",
        path: "",
    };
    let no_default = "{\n  \"transports\": {}\n}";
    top.check(
        valid,
        &[
            case(no_default, "", At::Obj, "missing required key \"default\""),
            case(edit(valid, "[{\"type\": \"reject\"}],", "17,"), ".default", At::First("17"), "must be an array, not a number"),
            case(edit(valid, "[{\"type\": \"reject\"}],", "{},"), ".default", At::First("{},"), "must be an array, not an object"),
            case(edit(valid, "[{\"type\": \"reject\"}],", "null,"), ".default", At::First("null"), "must be an array, not null"),
            case(edit(valid, "[{\"type\": \"reject\"}],", "[],"), ".default", At::First("[]"), "must not be empty"),
            case(edit(valid, "{\"docker\": {\"\": [{\"type\": \"reject\"}]}}", "17"), ".transports", At::First("17"), "must be an object, not a number"),
            case(edit(valid, "\"transports\": {\"docker\": {\"\": [{\"type\": \"reject\"}]}}", "\"transports\": []"), ".transports", At::First("[]"), "must be an object, not an array"),
            case(edit(valid, "\"transports\": {\"docker\": {\"\": [{\"type\": \"reject\"}]}}", "\"transports\": null"), ".transports", At::First("null"), "must be an object, not null"),
            case(add(valid, "\"zz\": 1"), ".zz", At::First("\"zz\""), "unknown key \"zz\" in the top-level object"),
            case(add(valid, "\"default\": [{\"type\": \"reject\"}]"), ".default", At::Last("\"default\""), "duplicate key \"default\""),
            case(add(valid, "\"transports\": {}"), ".transports", At::Last("\"transports\""), "duplicate key"),
            case("[]", "", At::Obj, "must be an object, not an array"),
            case("null", "", At::Obj, "must be an object, not null"),
        ],
    );
    let got = problems("{\"Default\": [{\"type\": \"reject\"}]}");
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].path.as_str(), got[0].column), ("", 1));
    assert_eq!((got[1].path.as_str(), got[1].column), ("Default", 2));
    top.accepts(&[
        "{\"default\": [{\"type\": \"reject\"}]}",
        "{\"default\": [{\"type\": \"reject\"}], \"transports\": {}}",
        "{\"transports\": {\"docker\": {}}, \"default\": [{\"type\": \"reject\"}]}",
    ]);
}

#[test]
fn transports_map() {
    let place = Place {
        template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": @@}",
        path: "transports",
    };
    let valid = "{\"docker\": {\"\": [{\"type\": \"reject\"}]},\n  \"my-transport\": {\"any thing /at: all\": [{\"type\": \"reject\"}]}}";
    place.check(
        valid,
        &[
            case(edit(valid, "{\"\": [{\"type\": \"reject\"}]}", "17"), ".docker", At::First("17"), "must be an object, not a number"),
            case(edit(valid, "{\"\": [{\"type\": \"reject\"}]}", "[]"), ".docker", At::First("[]"), "must be an object, not an array"),
            case(edit(valid, "{\"\": [{\"type\": \"reject\"}]}", "null"), ".docker", At::First("null"), "must be an object, not null"),
            case(add(valid, "\"docker\": {}"), ".docker", At::Last("\"docker\""), "duplicate key \"docker\""),
            // Unknown transports are accepted, but their requirements are still checked.
            case(edit(valid, "\"any thing /at: all\": [{\"type\": \"reject\"}]", "\"x\": [{\"type\": \"nope\"}]"), ".my-transport.x[0].type", At::First("\"nope\""), "unknown requirement type \"nope\""),
        ],
    );
}

#[test]
fn scope_maps() {
    let place = Place {
        template: "{\"default\": [{\"type\": \"reject\"}],\n \"transports\": {\"docker\":\n  @@}}",
        path: "transports.docker",
    };
    let valid = "{\"example.com/ns\": [{\"type\": \"reject\"}], \"\": [{\"type\": \"reject\"}]}";
    place.check(
        valid,
        &[
            case(edit(valid, "[{\"type\": \"reject\"}]", "17"), "[\"example.com/ns\"]", At::First("17"), "must be an array, not a number"),
            case(edit(valid, "[{\"type\": \"reject\"}]", "{}"), "[\"example.com/ns\"]", At::First("{}"), "must be an array, not an object"),
            case(edit(valid, "[{\"type\": \"reject\"}]", "null"), "[\"example.com/ns\"]", At::First("null"), "must be an array, not null"),
            case(edit(valid, "[{\"type\": \"reject\"}]", "[]"), "[\"example.com/ns\"]", At::First("[]"), "must not be empty"),
            case(edit(valid, "\"\": [{\"type\": \"reject\"}]", "\"\": []"), "[\"\"]", At::First("[]"), "must not be empty"),
            case(edit(valid, "[{\"type\": \"reject\"}]", "[17]"), "[\"example.com/ns\"][0]", At::First("17"), "must be an object, not a number"),
            case(add(valid, "\"example.com/ns\": [{\"type\": \"reject\"}]"), "[\"example.com/ns\"]", At::Last("\"example.com/ns\""), "duplicate key"),
            case(add(valid, "\"\": [{\"type\": \"reject\"}]"), "[\"\"]", At::Last("\"\":"), "duplicate key \"\""),
        ],
    );
}

#[test]
fn scopes_are_validated_per_transport() {
    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let doc = |transport: &str, scope: &str| {
        format!("{{\"default\": [{{\"type\": \"reject\"}}],\n \"transports\": {{\"{transport}\": {{\n   \"{scope}\": [{{\"type\": \"reject\"}}]}}}}}}")
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
        assert!(got[0].message.starts_with(&format!("invalid scope {scope:?} for the {transport:?} transport: ")), "{}", got[0]);
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
        ("containers-storage", "[overlay@/var/lib/containers/storage]docker.io/library/busybox:latest"),
        ("docker-archive", ""),
        ("tarball", ""),
        ("dir", ""),
        ("some-future-transport", "../anything"),
        ("ostree", "whatever"),
    ];
    for &(transport, scope) in good {
        let p = ok(&doc(transport, scope));
        assert_eq!((p.transports[0].name.as_str(), p.transports[0].scopes[0].scope.as_str()), (transport, scope));
    }
}

#[test]
fn unit_requirements() {
    for ty in ["insecureAcceptAnything", "reject"] {
        let valid = format!("{{\"type\": \"{ty}\"}}");
        let cases = [
            case(add(&valid, "\"x\": 1"), ".x", At::First("\"x\""), "unknown key \"x\" in a"),
            case(add(&valid, &format!("\"type\": \"{ty}\"")), ".type", At::Last("\"type\""), "duplicate key \"type\""),
            case("{}", "", At::Obj, "missing required key \"type\""),
            case("{\"Type\": \"reject\", \"type\": 17}", ".type", At::First("17"), "must be a string, not a number"),
            case("{\"type\": null}", ".type", At::First("null"), "must be a string, not null"),
            case("{\"type\": \"Reject\"}", ".type", At::First("\"Reject\""), "unknown requirement type \"Reject\""),
            case("17", "", At::Obj, "must be an object, not a number"),
            case(format!("\"{ty}\""), "", At::Obj, "must be an object, not a string"),
            case("null", "", At::Obj, "must be an object, not null"),
        ];
        REQUIREMENT.check(&valid, &cases);
    }
    // The pitfall named in style.md: serde's deny_unknown_fields would accept this.
    SCOPED_REQUIREMENT.check(
        "{\"type\": \"reject\"}",
        &[case("{\"type\":\"reject\",\"x\":1}", ".x", At::First("\"x\""), "unknown key \"x\" in a reject requirement")],
    );
}

#[test]
fn signed_by() {
    let valid = "{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"/nonexistent/key.gpg\",\n     \"signedIdentity\": {\"type\": \"matchRepository\"}}";
    let kp = "\"keyPath\": \"/nonexistent/key.gpg\"";
    let cases = [
        case(edit(valid, "\"keyType\": \"GPGKeys\", ", ""), "", At::Obj, "missing required key \"keyType\""),
        case(edit(valid, "\"GPGKeys\"", "\"bogus\""), ".keyType", At::First("\"bogus\""), "unknown keyType \"bogus\""),
        case(edit(valid, "\"GPGKeys\"", "\"\""), ".keyType", At::First("\"\""), "unknown keyType \"\""),
        case(edit(valid, "\"GPGKeys\"", "\"gpgkeys\""), ".keyType", At::First("\"gpgkeys\""), "unknown keyType"),
        case(edit(valid, "\"GPGKeys\"", "17"), ".keyType", At::First("17"), "must be a string"),
        case(edit(valid, "\"GPGKeys\"", "null"), ".keyType", At::First("null"), "must be a string, not null"),
        case(edit(valid, &format!("{kp},"), ""), "", At::Obj, "exactly one of keyPath, keyPaths and keyData must be present; none is"),
        case(add(valid, "\"keyData\": \"YWJj\""), ".keyData", At::First("\"YWJj\""), "keyData conflicts with keyPath"),
        case(add(valid, "\"keyPaths\": [\"/a\"]"), ".keyPaths", At::First("[\"/a\"]"), "keyPaths conflicts with keyPath"),
        case(edit(valid, kp, "\"keyData\": \"YWJj\", \"keyPaths\": [\"/a\"]"), ".keyPaths", At::First("[\"/a\"]"), "keyPaths conflicts with keyData"),
        case(edit(valid, "\"/nonexistent/key.gpg\"", "\"\""), ".keyPath", At::First("\"\""), "must not be empty"),
        case(edit(valid, "\"/nonexistent/key.gpg\"", "17"), ".keyPath", At::First("17"), "must be a string"),
        case(edit(valid, "\"/nonexistent/key.gpg\"", "null"), ".keyPath", At::First("null"), "must be a string, not null"),
        case(edit(valid, kp, "\"keyPaths\": 17"), ".keyPaths", At::First("17"), "must be an array"),
        case(edit(valid, kp, "\"keyPaths\": null"), ".keyPaths", At::First("null"), "must be an array, not null"),
        case(edit(valid, kp, "\"keyPaths\": [\"/a\", 17]"), ".keyPaths[1]", At::First("17"), "must be a string"),
        case(edit(valid, kp, "\"keyData\": 17"), ".keyData", At::First("17"), "must be a string"),
        case(edit(valid, kp, "\"keyData\": \"this is invalid base64\""), ".keyData", At::First("\"this"), "standard base64"),
        case(edit(valid, kp, "\"keyData\": \"YQ\""), ".keyData", At::First("\"YQ\""), "standard base64"),
        case(edit(valid, kp, "\"keyData\": \"YWJj=\""), ".keyData", At::First("\"YWJj=\""), "standard base64"),
        case(edit(valid, kp, "\"keyData\": \"YW-_\""), ".keyData", At::First("\"YW-_\""), "standard base64"),
        case(edit(valid, "{\"type\": \"matchRepository\"}", "\"matchRepository\""), ".signedIdentity", At::First("\"matchRepository\""), "must be an object, not a string"),
        case(edit(valid, "{\"type\": \"matchRepository\"}", "null"), ".signedIdentity", At::First("null"), "must be an object, not null"),
        case(edit(valid, "{\"type\": \"matchRepository\"}", "{}"), ".signedIdentity", At::First("{}"), "missing required key \"type\""),
        case(add(valid, "\"keyId\": \"x\""), ".keyId", At::First("\"keyId\""), "unknown key \"keyId\" in a signedBy requirement"),
        case(add(valid, "\"type\": \"signedBy\""), ".type", At::Last("\"type\""), "duplicate key"),
        case(add(valid, "\"keyType\": \"GPGKeys\""), ".keyType", At::Last("\"keyType\""), "duplicate key"),
        case(add(valid, kp), ".keyPath", At::Last("\"keyPath\""), "duplicate key"),
        case(add(valid, "\"signedIdentity\": {\"type\": \"matchRepository\"}"), ".signedIdentity", At::Last("\"signedIdentity\""), "duplicate key"),
        case(edit(valid, "\"signedBy\"", "\"signedby\""), ".type", At::First("\"signedby\""), "unknown requirement type"),
    ];
    REQUIREMENT.check(valid, &cases);
    SCOPED_REQUIREMENT.check(valid, &cases);
    let data = edit(valid, kp, "\"keyData\": \"YWJj\", \"keyData\": \"YWJj\"");
    REQUIREMENT.check(valid, &[case(data, ".keyData", At::Last("\"keyData\""), "duplicate key")]);

    // Allowed variations.
    let p = ok(&REQUIREMENT.doc(&edit(valid, ",\n     \"signedIdentity\": {\"type\": \"matchRepository\"}", "")));
    let Requirement::SignedBy(sb) = &p.default[1] else { panic!() };
    assert_eq!(sb.signed_identity, SignedIdentity::MatchRepoDigestOrExact);
    for key_type in ["GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs"] {
        ok(&REQUIREMENT.doc(&edit(valid, "GPGKeys", key_type)));
    }
    let p = ok(&REQUIREMENT.doc(&edit(valid, kp, "\"keyPaths\": []")));
    let Requirement::SignedBy(sb) = &p.default[1] else { panic!() };
    assert_eq!(sb.key_source, KeySource::Paths(vec![]));
    REQUIREMENT.accepts(&[
        &edit(valid, kp, "\"keyData\": \"\""),
        &edit(valid, kp, "\"keyData\": \"YW\\nJj\\r\\n\""),
        &edit(valid, kp, "\"keyData\": \"YR==\""),
        &edit(valid, kp, "\"keyPaths\": [\"/a\", \"\"]"),
    ]);
}

#[test]
fn signed_base_layer() {
    let valid = "{\"type\": \"signedBaseLayer\",\n  \"baseLayerIdentity\": {\"type\": \"exactRepository\", \"dockerRepository\": \"registry.access.redhat.com/rhel7/rhel\"}}";
    let bli = "{\"type\": \"exactRepository\", \"dockerRepository\": \"registry.access.redhat.com/rhel7/rhel\"}";
    REQUIREMENT.check(
        valid,
        &[
            case("{\"type\": \"signedBaseLayer\"}", "", At::Obj, "missing required key \"baseLayerIdentity\""),
            case(edit(valid, bli, "\"this is invalid\""), ".baseLayerIdentity", At::First("\"this"), "must be an object, not a string"),
            case(edit(valid, bli, "null"), ".baseLayerIdentity", At::First("null"), "must be an object, not null"),
            case(edit(valid, "\"registry.access.redhat.com/rhel7/rhel\"", "\"UPPER\""), ".baseLayerIdentity.dockerRepository", At::First("\"UPPER\""), "must be lowercase"),
            case(add(valid, "\"signedIdentity\": {\"type\": \"matchExact\"}"), ".signedIdentity", At::First("\"signedIdentity\""), "unknown key \"signedIdentity\" in a signedBaseLayer requirement"),
            case(add(valid, "\"type\": \"signedBaseLayer\""), ".type", At::Last("\"type\""), "duplicate key"),
            case(add(valid, &format!("\"baseLayerIdentity\": {bli}")), ".baseLayerIdentity", At::Last("\"baseLayerIdentity\""), "duplicate key"),
        ],
    );
    let p = ok(&REQUIREMENT.doc(valid));
    assert!(matches!(p.default[1], Requirement::SignedBaseLayer));
}

#[test]
fn sigstore_signed() {
    let valid = "{\"type\": \"sigstoreSigned\", \"keyData\": \"YWJj\",\n  \"signedIdentity\": {\"type\": \"matchRepository\"}}";
    let fulcio = "\"fulcio\": {\"caPath\": \"/ca.pem\", \"oidcIssuer\": \"https://github.com/login/oauth\", \"subjectEmail\": \"a@example.com\"}";
    let kd = "\"keyData\": \"YWJj\"";
    REQUIREMENT.check(
        valid,
        &[
            case(edit(valid, &format!("{kd},"), ""), "", At::Obj, "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be present; none is"),
            case(add(valid, "\"keyPath\": \"/foo/bar\""), ".keyPath", At::First("\"/foo/bar\""), "keyPath conflicts with keyData"),
            case(edit(valid, kd, &format!("{fulcio}, \"rekorPublicKeyPath\": \"/r\", {kd}")), ".keyData", At::First("\"YWJj\""), "keyData conflicts with fulcio"),
            case(edit(valid, kd, "\"keyPath\": 17"), ".keyPath", At::First("17"), "must be a string"),
            case(edit(valid, kd, "\"keyData\": 17"), ".keyData", At::First("17"), "must be a string"),
            case(edit(valid, kd, "\"keyData\": \"this is invalid base64\""), ".keyData", At::First("\"this"), "standard base64"),
            case(edit(valid, kd, "\"keyPaths\": []"), ".keyPaths", At::First("[]"), "must not be empty"),
            case(edit(valid, kd, "\"keyDatas\": []"), ".keyDatas", At::First("[]"), "must not be empty"),
            case(edit(valid, kd, "\"keyDatas\": [\"YWJj\", \"%\"]"), ".keyDatas[1]", At::First("\"%\""), "standard base64"),
            case(edit(valid, kd, "\"keyPaths\": null"), ".keyPaths", At::First("null"), "must be an array, not null"),
            case(add(valid, "\"rekorPublicKeyPath\": \"/r\", \"rekorPublicKeyData\": \"\""), ".rekorPublicKeyData", At::First("\"\""), "at most one of"),
            case(add(valid, "\"rekorPublicKeyPath\": 17"), ".rekorPublicKeyPath", At::First("17"), "must be a string"),
            case(add(valid, "\"rekorPublicKeyData\": \"this is invalid base64\""), ".rekorPublicKeyData", At::First("\"this"), "standard base64"),
            case(add(valid, "\"rekorPublicKeyPaths\": []"), ".rekorPublicKeyPaths", At::First("[]"), "must not be empty"),
            case(add(valid, "\"rekorPublicKeyDatas\": []"), ".rekorPublicKeyDatas", At::First("[]"), "must not be empty"),
            case(edit(valid, "{\"type\": \"matchRepository\"}", "\"this is invalid\""), ".signedIdentity", At::First("\"this"), "must be an object"),
            case(edit(valid, "{\"type\": \"matchRepository\"}", "null"), ".signedIdentity", At::First("null"), "must be an object, not null"),
            case(add(valid, "\"unexpected\": 1"), ".unexpected", At::First("\"unexpected\""), "unknown key \"unexpected\" in a sigstoreSigned requirement"),
            case(add(valid, "\"keyType\": \"GPGKeys\""), ".keyType", At::First("\"keyType\""), "unknown key"),
            case(add(valid, kd), ".keyData", At::Last("\"keyData\""), "duplicate key"),
            case(add(valid, "\"type\": \"sigstoreSigned\""), ".type", At::Last("\"type\""), "duplicate key"),
        ],
    );

    let fulcio_valid = format!("{{\"type\": \"sigstoreSigned\",\n  {fulcio},\n  \"rekorPublicKeyPath\": \"/rekor.pub\"}}");
    let fo = "{\"caPath\": \"/ca.pem\", \"oidcIssuer\": \"https://github.com/login/oauth\", \"subjectEmail\": \"a@example.com\"}";
    let f = fulcio_valid.as_str();
    REQUIREMENT.check(
        f,
        &[
            case(edit(f, ",\n  \"rekorPublicKeyPath\": \"/rekor.pub\"", ""), ".fulcio", At::First("{\"caPath\""), "required when fulcio is used"),
            case(edit(f, "\"caPath\": \"/ca.pem\", ", ""), ".fulcio", At::First("{\"oidc"), "one of caPath and caData must be present"),
            case(edit(f, "\"caPath\": \"/ca.pem\"", "\"caPath\": \"\""), ".fulcio", At::First("{\"caPath\""), "one of caPath and caData must be present"),
            case(edit(f, "\"caPath\": \"/ca.pem\"", "\"caPath\": \"/ca.pem\", \"caData\": \"YWJj\""), ".fulcio.caData", At::First("\"caData\""), "cannot be used together"),
            case(edit(f, "\"oidcIssuer\": \"https://github.com/login/oauth\", ", ""), ".fulcio", At::First("{\"caPath\""), "missing required key \"oidcIssuer\""),
            case(edit(f, "\"https://github.com/login/oauth\"", "\"\""), ".fulcio.oidcIssuer", At::First("\"\""), "must not be empty"),
            case(edit(f, ", \"subjectEmail\": \"a@example.com\"", ""), ".fulcio", At::First("{\"caPath\""), "missing required key \"subjectEmail\""),
            case(edit(f, "\"a@example.com\"", "17"), ".fulcio.subjectEmail", At::First("17"), "must be a string"),
            case(edit(f, "\"/ca.pem\"", "\"/ca.pem\", \"rekorURL\": \"x\""), ".fulcio.rekorURL", At::First("\"rekorURL\""), "unknown key \"rekorURL\" in fulcio"),
            case(edit(f, "\"/ca.pem\"", "\"/ca.pem\", \"caPath\": \"/ca.pem\""), ".fulcio.caPath", At::Last("\"caPath\""), "duplicate key"),
            case(edit(f, fo, "17"), ".fulcio", At::First("17"), "must be an object, not a number"),
            case(edit(f, fo, "null"), ".fulcio", At::First("null"), "must be an object, not null"),
            case(add(f, "\"pki\": {\"caRootsPath\": \"/r\", \"subjectEmail\": \"a@b\"}"), ".pki", At::First("{\"caRootsPath\""), "pki conflicts with fulcio"),
        ],
    );

    let pki_valid = "{\"type\": \"sigstoreSigned\",\n  \"pki\": {\"caRootsPath\": \"/roots.pem\", \"subjectEmail\": \"a@example.com\"}}";
    let p = pki_valid;
    REQUIREMENT.check(
        p,
        &[
            case(add(p, "\"rekorPublicKeyPath\": \"/r\""), ".rekorPublicKeyPath", At::First("\"/r\""), "not supported with pki"),
            case(edit(p, "\"caRootsPath\": \"/roots.pem\", ", ""), ".pki", At::First("{\"subject"), "one of caRootsPath and caRootsData must be present"),
            case(edit(p, "\"/roots.pem\"", "\"/roots.pem\", \"caRootsData\": \"YWJj\""), ".pki.caRootsData", At::First("\"caRootsData\""), "cannot be used together"),
            case(edit(p, "\"/roots.pem\"", "\"/roots.pem\", \"caIntermediatesPath\": \"/i\", \"caIntermediatesData\": \"YWJj\""), ".pki.caIntermediatesData", At::First("\"caIntermediatesData\""), "cannot be used together"),
            case(edit(p, ", \"subjectEmail\": \"a@example.com\"", ""), ".pki", At::First("{\"caRoots"), "at least one of subjectEmail and subjectHostname"),
            case(edit(p, "\"a@example.com\"", "\"\""), ".pki", At::First("{\"caRoots"), "at least one of subjectEmail and subjectHostname"),
            case(edit(p, "\"/roots.pem\"", "\"/roots.pem\", \"oidcIssuer\": \"x\""), ".pki.oidcIssuer", At::First("\"oidcIssuer\""), "unknown key \"oidcIssuer\" in pki"),
        ],
    );

    // Allowed variations, including c/image's treatment of "" paths as absent.
    REQUIREMENT.accepts(&[
        &edit(valid, ",\n  \"signedIdentity\": {\"type\": \"matchRepository\"}", ""),
        &edit(valid, kd, "\"keyPath\": \"/k\""),
        &edit(valid, kd, "\"keyPaths\": [\"/a\", \"/b\"]"),
        &edit(valid, kd, "\"keyDatas\": [\"YWJj\", \"\"]"),
        &edit(valid, kd, "\"keyPath\": \"\", \"keyData\": \"YWJj\""),
        &add(valid, "\"rekorPublicKeyPaths\": [\"/r1\", \"/r2\"]"),
        &add(valid, "\"rekorPublicKeyDatas\": [\"YWJj\"]"),
        &add(valid, "\"rekorPublicKeyPath\": \"\", \"rekorPublicKeyData\": \"YWJj\""),
        &edit(f, "\"caPath\": \"/ca.pem\"", "\"caData\": \"YWJj\""),
        &edit(f, "\"caPath\": \"/ca.pem\"", "\"caPath\": \"\", \"caData\": \"YWJj\""),
        &edit(p, "\"subjectEmail\": \"a@example.com\"", "\"subjectHostname\": \"example.com\""),
        &edit(p, "\"caRootsPath\": \"/roots.pem\"", "\"caRootsData\": \"YWJj\", \"caIntermediatesPath\": \"/i\""),
    ]);
    assert!(matches!(ok(&REQUIREMENT.doc(valid)).default[1], Requirement::SigstoreSigned));
}

#[test]
fn simple_identities() {
    for ty in ["matchExact", "matchRepoDigestOrExact", "matchRepository"] {
        let valid = format!("{{\"type\": \"{ty}\"}}");
        IDENTITY.check(
            &valid,
            &[
                case(add(&valid, "\"unknown\": \"foo\""), ".unknown", At::First("\"unknown\""), "unknown key \"unknown\" in a"),
                case(add(&valid, &format!("\"type\": \"{ty}\"")), ".type", At::Last("\"type\""), "duplicate key \"type\""),
                case("{}", "", At::Obj, "missing required key \"type\""),
                case("{\"type\": 1}", ".type", At::First("1"), "must be a string, not a number"),
                case("{\"type\": \"this is invalid\"}", ".type", At::First("\"this"), "unknown signedIdentity type \"this is invalid\""),
                case("[]", "", At::Obj, "must be an object, not an array"),
            ],
        );
    }
    let p = ok(&IDENTITY.doc("{\"type\": \"matchExact\"}"));
    let Requirement::SignedBy(sb) = &p.default[0] else { panic!() };
    assert_eq!(sb.signed_identity, SignedIdentity::MatchExact);
}

#[test]
fn exact_reference_and_repository() {
    let valid = "{\"type\": \"exactReference\", \"dockerReference\": \"library/busybox:latest\"}";
    let cases = [
        case("{\"type\": \"exactReference\"}", "", At::Obj, "missing required key \"dockerReference\""),
        case(edit(valid, "\"library/busybox:latest\"", "1"), ".dockerReference", At::First("1"), "must be a string"),
        case(edit(valid, "\"library/busybox:latest\"", "\"library/busybox\""), ".dockerReference", At::First("\"library"), "neither a tag nor a digest"),
        case(edit(valid, "\"library/busybox:latest\"", "\"INVALIDUPPERCASE:latest\""), ".dockerReference", At::First("\"INVALID"), "must be lowercase"),
        case(edit(valid, "\"library/busybox:latest\"", "\"\""), ".dockerReference", At::First("\"\""), "invalid reference"),
        case(add(valid, "\"dockerReference\": \"busybox:1\""), ".dockerReference", At::Last("\"dockerReference\""), "duplicate key"),
        case(add(valid, "\"dockerRepository\": \"busybox\""), ".dockerRepository", At::First("\"dockerRepository\""), "unknown key \"dockerRepository\" in a exactReference identity"),
        case(add(valid, "\"type\": \"exactReference\""), ".type", At::Last("\"type\""), "duplicate key"),
    ];
    IDENTITY.check(valid, &cases);
    BASE_LAYER_IDENTITY.check(valid, &cases);
    let p = ok(&IDENTITY.doc(valid));
    let Requirement::SignedBy(sb) = &p.default[0] else { panic!() };
    let SignedIdentity::ExactReference(r) = &sb.signed_identity else { panic!() };
    assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    IDENTITY.accepts(&[
        &edit(valid, "library/busybox:latest", &format!("busybox@{digest}")),
        &edit(valid, "library/busybox:latest", &format!("busybox:tag@{digest}")),
    ]);

    let valid = "{\"type\": \"exactRepository\", \"dockerRepository\": \"library/busybox:latest\"}";
    IDENTITY.check(
        valid,
        &[
            case("{\"type\": \"exactRepository\"}", "", At::Obj, "missing required key \"dockerRepository\""),
            case(edit(valid, "\"library/busybox:latest\"", "1"), ".dockerRepository", At::First("1"), "must be a string"),
            case(edit(valid, "\"library/busybox:latest\"", "\"INVALIDUPPERCASE\""), ".dockerRepository", At::First("\"INVALID"), "must be lowercase"),
            case(edit(valid, "\"library/busybox:latest\"", "\"\""), ".dockerRepository", At::First("\"\""), "invalid reference"),
            case(add(valid, "\"dockerRepository\": \"x\""), ".dockerRepository", At::Last("\"dockerRepository\""), "duplicate key"),
            case(add(valid, "\"unexpected\": 1"), ".unexpected", At::First("\"unexpected\""), "unknown key"),
        ],
    );
    IDENTITY.accepts(&[&edit(valid, "library/busybox:latest", "busybox")]);
}

#[test]
fn remap_identity() {
    let valid = "{\"type\": \"remapIdentity\",\n  \"prefix\": \"example.com/docker-library\", \"signedPrefix\": \"docker.io/library\"}";
    let mut cases = vec![
        case(edit(valid, "\"prefix\": \"example.com/docker-library\", ", ""), "", At::Obj, "missing required key \"prefix\""),
        case(edit(valid, ", \"signedPrefix\": \"docker.io/library\"", ""), "", At::Obj, "missing required key \"signedPrefix\""),
        case(edit(valid, "\"example.com/docker-library\"", "1"), ".prefix", At::First("1"), "must be a string"),
        case(edit(valid, "\"docker.io/library\"", "1"), ".signedPrefix", At::First("1"), "must be a string"),
        case(edit(valid, "\"example.com/docker-library\"", "\"this is invalid\""), ".prefix", At::First("\"this"), "is not a valid prefix"),
        case(add(valid, "\"prefix\": \"example.com\""), ".prefix", At::Last("\"prefix\""), "duplicate key"),
        case(add(valid, "\"signedPrefix\": \"example.com\""), ".signedPrefix", At::Last("\"signedPrefix\""), "duplicate key"),
        case(add(valid, "\"unexpected\": 1"), ".unexpected", At::First("\"unexpected\""), "unknown key"),
    ];
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
        cases.push(case(edit(valid, "\"docker.io/library\"", quoted), ".signedPrefix", At::First(quoted), "not a valid prefix"));
    }
    IDENTITY.check(valid, &cases);
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
        let p = ok(&IDENTITY.doc(&edit(valid, "example.com/docker-library", good)));
        let Requirement::SignedBy(sb) = &p.default[0] else { panic!() };
        assert_eq!(
            sb.signed_identity,
            SignedIdentity::RemapIdentity {
                prefix: good.into(),
                signed_prefix: "docker.io/library".into()
            }
        );
    }
}
