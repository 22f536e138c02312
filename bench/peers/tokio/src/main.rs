//! The tokio peer of bench/peers.sh: a {packet,4} echo server with one task
//! per connection on the multi-threaded runtime (a worker per CPU).
//!
//!     tokio_echo [port=0]
//!
//! Each task reads into its own buffer (4 KiB, grown for bigger frames and
//! shrunk back when empty) and writes every read's complete frames back in
//! one write_all. 127.0.0.1, backlog 4096, Nagle on. Prints
//! "listening on PORT", serves until killed.
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const BUF: usize = 4096;

fn complete_frames(p: &[u8]) -> usize {
    let mut off = 0;
    while p.len() - off >= 4 {
        let len = u32::from_be_bytes([p[off], p[off + 1], p[off + 2], p[off + 3]]) as usize;
        if p.len() - off - 4 < len {
            break;
        }
        off += 4 + len;
    }
    off
}

async fn serve(mut s: TcpStream) {
    let mut buf: Vec<u8> = Vec::with_capacity(BUF);
    loop {
        if buf.capacity() - buf.len() < BUF {
            buf.reserve(BUF);
        }
        match s.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let k = complete_frames(&buf);
        if k > 0 {
            if s.write_all(&buf[..k]).await.is_err() {
                return;
            }
            buf.drain(..k);
        }
        if buf.is_empty() && buf.capacity() > 4 * BUF {
            buf = Vec::with_capacity(BUF); // idle tasks keep no big buffer
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix("port=").and_then(|p| p.parse().ok()))
        .unwrap_or(0);
    let sock = TcpSocket::new_v4()?;
    sock.set_reuseaddr(true)?;
    sock.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let l = sock.listen(4096)?;
    println!("listening on {}", l.local_addr()?.port());
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(serve(s));
            }
            Err(e) => eprintln!("tokio_echo: accept: {e}"),
        }
    }
}
