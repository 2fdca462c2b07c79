//! A small web app on Rust's standard library: `cargo run` serves it on port 8080.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

const PORT: u16 = 8080;

/// The text the page shows.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}, from Rust!")
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let (kind, body) = if request_line.starts_with("GET /api/hello ") {
        ("application/json", format!("{{\"message\":\"{}\"}}", greeting("API")))
    } else {
        (
            "text/html; charset=utf-8",
            format!("<!doctype html><title>Rust starter</title><h1>{}</h1>", greeting("world")),
        )
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", PORT))?;
    println!("Serving on port {PORT}: open it from the Ports panel");
    for stream in listener.incoming() {
        if let Err(error) = stream.and_then(answer) {
            eprintln!("request failed: {error}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn greeting_names_the_person() {
        assert_eq!(super::greeting("Ada"), "Hello, Ada, from Rust!");
    }
}
