//! Pieces of `confidential-pipeline`: the bundled demo audio and in-process serving.

use std::net::SocketAddr;

/// A tiny demo recording, generated rather than bundled: one second of 8 kHz, 16-bit mono PCM
/// WAV, a 440 Hz tone fading in and out.
pub fn demo_wav() -> Vec<u8> {
    const RATE: u32 = 8_000;
    let samples: Vec<i16> = (0..RATE)
        .map(|n| {
            let t = f64::from(n) / f64::from(RATE);
            let envelope = (std::f64::consts::PI * t).sin();
            let value = envelope * 12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin();
            // |value| <= 12000, well inside i16; the cast only drops the fraction.
            #[allow(clippy::cast_possible_truncation)]
            let sample = value.round() as i16;
            sample
        })
        .collect();
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16_u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1_u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // byte rate
    wav.extend_from_slice(&2_u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16_u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for sample in samples {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

/// Serves `app` on a fresh loopback port in the background and returns its base URL.
pub async fn serve_on_loopback(app: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}
