//! A small real SMTP server for the tests: it speaks enough SMTP for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
//! receives, and can play an outage (answering 421 to new connections).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }

    /// The body with quoted-printable soft breaks and escapes undone.
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        decode_quoted_printable(body)
    }

    /// The first link to `path_prefix` in the body.
    pub fn link(&self, path_prefix: &str) -> Option<String> {
        let body = self.body();
        let start = body.find(path_prefix)?;
        let end = body[start..]
            .find(|c: char| c.is_whitespace())
            .map_or(body.len(), |e| start + e);
        Some(body[start..end].to_string())
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp");
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> Self {
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let (m, d, s, r) = (
            messages.clone(),
            down.clone(),
            stop.clone(),
            refused.clone(),
        );
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (m, d, r) = (m.clone(), d.clone(), r.clone());
                        std::thread::spawn(move || {
                            let _ = session(stream, &m, &r, d.load(Ordering::Relaxed));
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self {
            port,
            messages,
            down,
            stop,
            refused,
        }
    }

    /// Mail to `address` is refused for good ("550 mailbox unavailable").
    pub fn refuse(&self, address: &str) {
        self.refused.lock().expect("lock").push(address.to_string());
    }

    /// Until `set_down(false)`, every new connection gets "421".
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().expect("lock").clone()
    }

    /// Waits (briefly) until `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() > deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn session(
    stream: TcpStream,
    messages: &Mutex<Vec<Received>>,
    refused: &Mutex<Vec<String>>,
    down: bool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    if down {
        writer.write_all(b"421 4.3.2 Service not available, try again later\r\n")?;
        return Ok(());
    }
    writer.write_all(b"220 sink.test ESMTP\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            writer.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().trim_matches(['<', '>']).to_string();
            to.clear();
            writer.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            let address = command[8..].trim().trim_matches(['<', '>']).to_string();
            if refused.lock().expect("lock").contains(&address) {
                writer.write_all(b"550 5.1.1 mailbox unavailable\r\n")?;
            } else {
                to.push(address);
                writer.write_all(b"250 OK\r\n")?;
            }
        } else if upper == "DATA" {
            writer.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            messages.lock().expect("lock").push(Received {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            writer.write_all(b"250 OK queued\r\n")?;
        } else if upper == "QUIT" {
            writer.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else.
            writer.write_all(b"250 OK\r\n")?;
        }
    }
}
