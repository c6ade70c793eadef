//! Registry authentication: [`Auth`] credentials, the `WWW-Authenticate`
//! challenges of `GET /v2/`, the `Bearer` token flow (tokens cached per host
//! and scope) and `Basic` authorization of requests.

use std::collections::HashMap;

use reqwest::blocking::RequestBuilder;
use reqwest::header::{HeaderMap, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::Url;

use super::error::transport_err;
use super::http::{read_body, send, Deadline};
use super::{HostState, Registries, RegistryError};

const MAX_TOKEN_SIZE: usize = 1024 * 1024;

/// Registry credentials.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials (the default).
    #[default]
    Anonymous,
    /// HTTP Basic credentials, also sent to the token service.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token, exchanged at the registry's token realm.
    IdentityToken {
        /// The user name (shown in `Debug`; may be empty).
        username: String,
        /// The refresh token.
        token: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Auth::IdentityToken { username, .. } => write!(f, "IdentityToken({username}, <redacted>)"),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Challenge {
    realm: String,
    service: Option<String>,
}

/// Parse `Bearer realm="…",service="…",scope="…"`.
pub(super) fn parse_challenges(headers: &HeaderMap) -> (Option<Challenge>, bool) {
    let mut bearer = None;
    let mut basic = false;
    for v in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(v) = v.to_str() else { continue };
        let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => {
                let params = parse_params(rest);
                if let Some(realm) = params.get("realm") {
                    bearer = Some(Challenge {
                        realm: realm.clone(),
                        service: params.get("service").cloned().filter(|s| !s.is_empty()),
                    });
                }
            }
            "basic" => basic = true,
            _ => {}
        }
    }
    (bearer, basic)
}

fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, v)) = rest.split_once('=') else { break };
        let key = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let v = v.trim_start();
        let (value, tail) = if let Some(stripped) = v.strip_prefix('"') {
            match stripped.find('"') {
                Some(end) => (&stripped[..end], &stripped[end + 1..]),
                None => (stripped, ""),
            }
        } else {
            match v.find(',') {
                Some(end) => (&v[..end], &v[end..]),
                None => (v, ""),
            }
        };
        out.insert(key, value.to_owned());
        rest = tail.trim_start_matches(',').trim();
    }
    out
}

impl Registries {
    /// A bearer token for `scope`, fetched once per host and scope.
    fn token(state: &HostState, auth: &Auth, scope: &str) -> Result<Option<String>, RegistryError> {
        let Some(ch) = state.bearer.clone() else {
            return Ok(None);
        };
        let cached = state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
            .cloned();
        if let Some(t) = cached {
            return Ok(Some(t));
        }
        // Fetched without any lock held: two workers may both fetch a token for a
        // new scope at the same moment, which is harmless (the last one is kept).
        let mut url = Url::parse(&ch.realm).map_err(|e| RegistryError::Protocol {
            url: ch.realm.clone(),
            message: format!("invalid token realm: {e}"),
        })?;
        if state.base.scheme() == "https" && url.scheme() != "https" {
            return Err(RegistryError::Protocol {
                url: ch.realm.clone(),
                message: "refusing to send credentials to a plain-http token realm of an https registry".into(),
            });
        }
        let deadline = Deadline::after(state.timeout);
        let resp = match auth {
            Auth::IdentityToken { token, .. } => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", token.clone()),
                    ("client_id", "containers/image".to_owned()),
                    ("scope", scope.to_owned()),
                ];
                if let Some(s) = &ch.service {
                    form.push(("service", s.clone()));
                }
                // application/x-www-form-urlencoded, built with the URL serializer.
                let mut enc = Url::parse("http://form.invalid/").map_err(|e| RegistryError::Protocol {
                    url: ch.realm.clone(),
                    message: e.to_string(),
                })?;
                enc.query_pairs_mut()
                    .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())));
                let req = state
                    .client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(enc.query().unwrap_or("").to_owned());
                send(req, "POST", url.as_str())
            }
            _ => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Auth::Basic { username, .. } = auth {
                        q.append_pair("account", username);
                    }
                    if let Some(s) = &ch.service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", scope);
                }
                let mut req = state.client.get(url.clone());
                if let Auth::Basic { username, password } = auth {
                    req = req.basic_auth(username, Some(password));
                }
                send(req, "GET", url.as_str())
            }
        };
        let u = url.to_string();
        let resp = resp.map_err(|e| transport_err(&u, e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Status {
                url: u,
                status: resp.status().as_u16(),
                detail: " from the token service".into(),
            });
        }
        let body = read_body(resp, MAX_TOKEN_SIZE, &u, deadline)?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
            url: u.clone(),
            message: format!("token response is not JSON: {e}"),
        })?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::Protocol {
                url: u.clone(),
                message: "token response has no token".into(),
            })?
            .to_owned();
        state
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(scope.to_owned(), token.clone());
        Ok(Some(token))
    }

    pub(super) fn authorize(
        state: &HostState,
        req: RequestBuilder,
        auth: &Auth,
        scope: &str,
    ) -> Result<RequestBuilder, RegistryError> {
        if let Some(t) = Registries::token(state, auth, scope)? {
            return Ok(req.header(AUTHORIZATION, format!("Bearer {t}")));
        }
        if state.basic {
            if let Auth::Basic { username, password } = auth {
                return Ok(req.basic_auth(username, Some(password)));
            }
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let mut h = HeaderMap::new();
        h.append(
            WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="x""#
                .parse()
                .unwrap(),
        );
        let (b, basic) = parse_challenges(&h);
        let b = b.unwrap();
        assert_eq!(b.realm, "https://auth.example.com/token");
        assert_eq!(b.service.as_deref(), Some("registry.example.com"));
        assert!(!basic);
        let mut h = HeaderMap::new();
        h.append(WWW_AUTHENTICATE, r#"Basic realm="Registry Realm""#.parse().unwrap());
        assert!(parse_challenges(&h).1);
    }
}
