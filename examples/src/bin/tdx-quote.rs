//! `tdx-quote`: inspect TDX quotes.

fn main() {
    println!("tdx-quote: under construction");
}
