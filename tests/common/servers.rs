//! Servers for the registry tests, all on 127.0.0.0/8 and all stopped on drop:
//!
//! - [`StaticHttp`]: `python3 -m http.server` serving a directory (a real lookaside);
//! - [`TlsRegistry`]: Debian's `docker-registry` over TLS (a CA made here with the `openssl`
//!   CLI, SAN IP:127.0.0.1) with htpasswd basic auth (bcrypt, `htpasswd -B`);
//! - [`PyHttps`]: a python HTTPS server (certificate from the test CA) serving a directory,
//!   or answering every GET with a 302 to a fixed URL (for the https→http downgrade check);
//! - [`Fake`]: a FAKE HTTP/1.1 server (std `TcpListener` + threads). It exists only for the
//!   faults a real registry or web server cannot be made to show: a bearer-token service we
//!   control, huge or endless bodies, a byte-per-second drip, cross-host redirects, endless
//!   `signature-N`, wrong bytes for a digest, a lookaside answering 500. It records every
//!   request so that tests can assert what the client sent (e.g. no `Authorization` header
//!   after a redirect to another host). Never use it where a real server can do the job.
//!
//! Plus [`run_bounded`], which runs a command with a deadline so that no test can hang.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A free TCP port on `ip` (the port is released again; a server started right after
/// will almost always get it, and callers retry when it does not).
pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .expect("bind an ephemeral port")
        .local_addr()
        .unwrap()
        .port()
}

/// A port on 127.0.0.1 where nothing listens (connections are refused).
pub fn closed_port() -> u16 {
    free_port("127.0.0.1")
}

/// Run `cmd` with a deadline: kill it and panic (with its output so far) when it takes
/// longer than `secs`. stdin is /dev/null.
pub fn run_bounded(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for child") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
            panic!(
                "{cmd:?} did not finish within {secs} s\n--- stdout\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(&o),
                String::from_utf8_lossy(&e)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc {
    child: Child,
    what: String,
    log: PathBuf,
}

impl Proc {
    /// Start `cmd` with stderr (and, unless `pipe_stdout`, stdout) going to `log`. A piped
    /// stdout must be read ([`Proc::stdout_line`] keeps draining it).
    fn spawn(mut cmd: Command, what: &str, log: &Path, pipe_stdout: bool) -> Proc {
        let f = std::fs::File::create(log).expect("create server log");
        let stdout = if pipe_stdout {
            Stdio::piped()
        } else {
            Stdio::from(f.try_clone().unwrap())
        };
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(f);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({cmd:?}): {e}"));
        Proc {
            child,
            what: what.to_owned(),
            log: log.to_owned(),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `addr` accepts TCP connections; `Err` with the log if the process exits.
    fn wait_listening(&mut self, addr: SocketAddr) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Err(format!("{} exited early ({st}):\n{}", self.what, self.log_text()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on {addr} in time:\n{}",
                    self.what,
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first stdout line that contains `needle` (python prints its port there).
    fn stdout_line(&mut self, needle: &str) -> String {
        let out = self.child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let n = needle.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line.contains(&n) {
                    let _ = tx.send(line);
                }
            }
        });
        rx.recv_timeout(START_TIMEOUT)
            .unwrap_or_else(|_| panic!("{} printed no {needle:?} line:\n{}", self.what, self.log_text()))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_port(line: &str) -> u16 {
    // "Serving HTTP on 127.0.0.1 port 41873 (http://127.0.0.1:41873/) ..." or "PORT 41873"
    let after = line.split("port ").nth(1).or_else(|| line.split("PORT ").nth(1));
    after
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// `python3 -m http.server` serving `dir` on 127.0.0.1 (a real static lookaside).
pub struct StaticHttp {
    _proc: Proc,
    log: PathBuf,
    pub port: u16,
    /// `http://127.0.0.1:PORT/`
    pub url: String,
}

impl StaticHttp {
    pub fn serve(dir: &Path) -> StaticHttp {
        let log = std::env::temp_dir().join(format!("imgsig-http-{}-{}.log", std::process::id(), unique()));
        let mut cmd = Command::new("python3");
        // Port 0: the OS picks a free one and python prints it (-u: unbuffered).
        cmd.args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .arg("0");
        let mut p = Proc::spawn(cmd, "python3 -m http.server", &log, true);
        let port = python_port(&p.stdout_line("Serving HTTP"));
        p.wait_listening(SocketAddr::from(([127, 0, 0, 1], port)))
            .unwrap_or_else(|e| panic!("{e}"));
        StaticHttp {
            _proc: p,
            log,
            port,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for StaticHttp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

fn unique() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[track_caller]
fn sh(cmd: &mut Command) {
    let o = run_bounded(cmd, 60);
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA and a server certificate for IP 127.0.0.1, made with the `openssl` CLI.
pub struct TestCa {
    /// `ca.crt` (PEM)
    pub ca_cert: PathBuf,
    /// `server.crt` / `server.key` (PEM), SAN IP:127.0.0.1
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TestCa {
    pub fn create(dir: &Path) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        let p = |n: &str| dir.join(n);
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        sh(Command::new("openssl")
            .args(["req", "-x509"])
            .args(ec)
            .arg("-keyout")
            .arg(p("ca.key"))
            .arg("-out")
            .arg(p("ca.crt"))
            .args(["-days", "2", "-subj", "/CN=imgsig test CA"]));
        sh(Command::new("openssl")
            .arg("req")
            .args(ec)
            .arg("-keyout")
            .arg(p("server.key"))
            .arg("-out")
            .arg(p("server.csr"))
            .args(["-subj", "/CN=127.0.0.1"]));
        std::fs::write(
            p("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        sh(Command::new("openssl")
            .args(["x509", "-req", "-in"])
            .arg(p("server.csr"))
            .arg("-CA")
            .arg(p("ca.crt"))
            .arg("-CAkey")
            .arg(p("ca.key"))
            .args(["-CAcreateserial", "-days", "2", "-out"])
            .arg(p("server.crt"))
            .arg("-extfile")
            .arg(p("ext.cnf")));
        TestCa {
            ca_cert: p("ca.crt"),
            server_cert: p("server.crt"),
            server_key: p("server.key"),
        }
    }
}

/// Debian's docker-registry 2.8 over TLS with htpasswd (bcrypt) basic auth.
pub struct TlsRegistry {
    _proc: Proc,
    pub port: u16,
    /// `127.0.0.1:PORT`
    pub host: String,
    /// A cert dir holding only `ca.crt` (for `--cert-dir` / skopeo `--dest-cert-dir`).
    pub cert_dir: PathBuf,
    /// The CA and the server certificate (also usable for other servers on 127.0.0.1).
    pub ca: TestCa,
    pub user: String,
    pub password: String,
}

impl TlsRegistry {
    pub fn start(dir: &Path, user: &str, password: &str) -> TlsRegistry {
        let ca = TestCa::create(&dir.join("pki"));
        let cert_dir = dir.join("certs");
        std::fs::create_dir_all(&cert_dir).unwrap();
        std::fs::copy(&ca.ca_cert, cert_dir.join("ca.crt")).unwrap();
        let htpasswd = dir.join("htpasswd");
        let o = run_bounded(Command::new("htpasswd").args(["-B", "-b", "-n", user, password]), 30);
        assert!(o.status.success(), "htpasswd: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::write(&htpasswd, String::from_utf8(o.stdout).unwrap().trim()).unwrap();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port("127.0.0.1");
            let config = dir.join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {data}\n\
                     http:\n  addr: 127.0.0.1:{port}\n  secret: imgsig-test-secret\n  tls:\n    \
                     certificate: {cert}\n    key: {key}\nauth:\n  htpasswd:\n    realm: imgsig-test\n    \
                     path: {htpasswd}\n",
                    data = dir.join("data").display(),
                    cert = ca.server_cert.display(),
                    key = ca.server_key.display(),
                    htpasswd = htpasswd.display()
                ),
            )
            .unwrap();
            let mut cmd = Command::new("docker-registry");
            cmd.arg("serve").arg(&config);
            // docker-registry reads every REGISTRY_* variable as a config override
            // (REGISTRY_AUTH_FILE, which skopeo uses, breaks it).
            for (k, _) in std::env::vars_os() {
                if k.to_string_lossy().starts_with("REGISTRY_") {
                    cmd.env_remove(k);
                }
            }
            let mut p = Proc::spawn(cmd, "docker-registry", &dir.join("registry.log"), false);
            match p.wait_listening(SocketAddr::from(([127, 0, 0, 1], port))) {
                Ok(()) => {
                    return TlsRegistry {
                        _proc: p,
                        port,
                        host: format!("127.0.0.1:{port}"),
                        cert_dir,
                        ca,
                        user: user.to_owned(),
                        password: password.to_owned(),
                    }
                }
                // Most likely the port was taken meanwhile: try another one.
                Err(e) => last = e,
            }
        }
        panic!("cannot start docker-registry: {last}");
    }
}

/// A python HTTPS server (certificate from a [`TestCa`]) on 127.0.0.1 that either serves a
/// directory (a real static HTTPS lookaside) or answers every GET with
/// `302 Location: <target><path>` (for the https→http downgrade check).
pub struct PyHttps {
    _proc: Proc,
    pub port: u16,
    /// `https://127.0.0.1:PORT/`
    pub url: String,
}

const HTTPS_PY: &str = r#"
import functools, http.server, ssl, sys
cert, key, mode, arg = sys.argv[1:5]
class Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", arg + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
if mode == "redirect":
    handler = Redirect
else:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=arg)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print("PORT %d" % s.server_address[1], flush=True)
s.serve_forever()
"#;

impl PyHttps {
    /// Serve `dir` over HTTPS.
    pub fn serve(ca: &TestCa, dir: &Path, log: &Path) -> PyHttps {
        PyHttps::start(ca, "serve", dir.to_str().expect("UTF-8 path"), log)
    }

    /// Redirect every GET to `target` + path (`target` without a trailing slash).
    pub fn redirect(ca: &TestCa, target: &str, log: &Path) -> PyHttps {
        PyHttps::start(ca, "redirect", target, log)
    }

    fn start(ca: &TestCa, mode: &str, arg: &str, log: &Path) -> PyHttps {
        let mut cmd = Command::new("python3");
        cmd.args(["-u", "-c", HTTPS_PY])
            .arg(&ca.server_cert)
            .arg(&ca.server_key)
            .args([mode, arg]);
        let mut p = Proc::spawn(cmd, "python https server", log, true);
        let port = python_port(&p.stdout_line("PORT"));
        p.wait_listening(SocketAddr::from(([127, 0, 0, 1], port)))
            .unwrap_or_else(|e| panic!("{e}"));
        PyHttps {
            _proc: p,
            port,
            url: format!("https://127.0.0.1:{port}/"),
        }
    }
}

// ------------------------------------------------------------------ the fake server

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// `http://IP:PORT` of the fake that received it.
    pub base: String,
    /// The request body (as announced by Content-Length; at most 8 MiB).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
    /// A query parameter (no percent-decoding beyond `%3A`/`%2F`, enough for scopes).
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.path.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| {
                v.replace("%3A", ":")
                    .replace("%2F", "/")
                    .replace("%3a", ":")
                    .replace("%2f", "/")
            })
        })
    }
}

/// The connection a handler answers on. Every response closes the connection.
pub struct Conn<'a> {
    stream: &'a mut TcpStream,
    stop: &'a AtomicBool,
    written: &'a AtomicUsize,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

impl Conn<'_> {
    fn head(&mut self, status: u16, headers: &[(&str, &str)], content_length: Option<usize>) -> std::io::Result<()> {
        let mut h = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n", reason(status));
        if let Some(n) = content_length {
            h.push_str(&format!("Content-Length: {n}\r\n"));
        }
        for (k, v) in headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        h.push_str("\r\n");
        self.stream.write_all(h.as_bytes())
    }

    /// A complete response with a Content-Length.
    pub fn send(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        let _ = self
            .head(status, headers, Some(body.len()))
            .and_then(|()| self.stream.write_all(body));
        self.written.fetch_add(body.len(), Ordering::Relaxed);
    }

    /// 200 with `len` bytes of `fill`, announced with a Content-Length (or, with `None`, an
    /// endless body delimited by the connection close) written in 64 KiB chunks until the
    /// client goes away, the fake stops, or 1 GiB went out.
    pub fn send_big(&mut self, headers: &[(&str, &str)], len: Option<usize>, fill: u8) {
        if self.head(200, headers, len).is_err() {
            return;
        }
        let chunk = vec![fill; 64 * 1024];
        let limit = len.unwrap_or(1 << 30);
        let mut sent = 0;
        while sent < limit && !self.stop.load(Ordering::Relaxed) {
            let n = chunk.len().min(limit - sent);
            if self.stream.write_all(&chunk[..n]).is_err() {
                break;
            }
            sent += n;
            self.written.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Send nothing at all for `d` (or until the fake stops): a server that never answers.
    pub fn drip_silence(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// 200 announcing `len` bytes, then one byte per second until the client goes away or
    /// the fake stops.
    pub fn drip(&mut self, headers: &[(&str, &str)], len: usize) {
        if self.head(200, headers, Some(len)).is_err() {
            return;
        }
        for _ in 0..len {
            if self.stop.load(Ordering::Relaxed) || self.stream.write_all(b"x").is_err() {
                break;
            }
            self.written.fetch_add(1, Ordering::Relaxed);
            for _ in 0..10 {
                if self.stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

type Handler = dyn Fn(&Request, &mut Conn) + Send + Sync + 'static;

/// A FAKE HTTP server for faults real servers cannot show (see the module docs). Requests
/// are answered by `handler`, one thread per connection; every request is recorded.
pub struct Fake {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    written: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl Fake {
    /// Start on `ip` (e.g. "127.0.0.1" or "127.0.0.2"), on a port the OS picks.
    pub fn start(ip: &str, handler: impl Fn(&Request, &mut Conn) + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind((ip, 0)).expect("bind the fake server");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, l, w) = (stop.clone(), log.clone(), written.clone());
        let accept = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (s, l, w, h) = (s.clone(), l.clone(), w.clone(), handler.clone());
                        conns.push(std::thread::spawn(move || serve_conn(stream, addr, &s, &l, &w, &*h)));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Fake {
            addr,
            stop,
            log,
            written,
            accept: Some(accept),
        }
    }

    /// `http://IP:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `IP:PORT`, the registry host name of docker references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Body bytes written so far (all connections).
    pub fn bytes_written(&self) -> usize {
        self.written.load(Ordering::Relaxed)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve_conn(
    mut stream: TcpStream,
    local: SocketAddr,
    stop: &AtomicBool,
    log: &Mutex<Vec<Request>>,
    written: &AtomicUsize,
    handler: &Handler,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        // Not HTTP (e.g. a TLS ClientHello when the client tries https first): hang up.
        if buf.first().is_some_and(|b| !b.is_ascii_uppercase()) || buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, path) = (
        first.next().unwrap_or("").to_owned(),
        first.next().unwrap_or("").to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(8 << 20);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(len);
    let req = Request {
        method,
        path,
        headers,
        base: format!("http://{local}"),
        body,
    };
    log.lock().unwrap_or_else(|e| e.into_inner()).push(req.clone());
    let mut conn = Conn {
        stream: &mut stream,
        stop,
        written,
    };
    handler(&req, &mut conn);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
