//! Any bytes through the quote parser: it must return, never panic, and agree with itself.
#![no_main]

use attested_tdx::Quote;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let strict = Quote::parse(data);
    let lenient = Quote::parse_allowing_trailing_data(data);
    if let Ok(quote) = &strict {
        assert!(lenient.is_ok(), "strict parse accepted what lenient parse refused");
        assert!(quote.trailing_data().iter().all(|b| *b == 0));
    }
    if let Err(err) = &strict {
        assert!(err.offset() <= data.len(), "error offset past the input");
    }
    let Ok(quote) = lenient else { return };
    assert!(quote.signed_bytes().len() + quote.trailing_padding() <= data.len());
    let report = quote.report();
    let _ = (report.td_attributes().debug(), report.tee_tcb_svn2(), report.td15_ext());
    let signature = quote.signature();
    let _ = (signature.qe_report().report_data(), signature.qe_auth_data().len());
    if let Some(chain) = signature.certification().pck_cert_chain() {
        for block in chain.certificates().take(16) {
            if let Ok(block) = block {
                let _ = block.to_der();
            }
        }
    }
});
