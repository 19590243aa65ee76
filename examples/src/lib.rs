//! Programs that compose the attested crates. Each binary under `src/bin/` is one tool.

pub mod chat_client;
pub mod hostile;
pub mod ita_evidence;
pub mod llm_proxy;
pub mod mock_azure;
pub mod mock_ita;
pub mod mock_llm;
pub mod mock_relay;
pub mod mock_whisper;
pub mod nitro_evidence;
pub mod ohttp_gateway;
pub mod pipeline;
pub mod serve;
pub mod tdx_evidence;
pub mod tdx_verify_cli;
pub mod test_tls;
pub mod tls;
pub mod whisper_client;

/// `error` and each of its sources, joined by `": "`, so a refusal names the check that failed
/// and not only the layer that reported it. A source whose text the message already ends with
/// (errors that both show and expose their cause) is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("leaf check")]
    struct Leaf;

    #[derive(Debug, thiserror::Error)]
    enum Layer {
        #[error("hidden cause")]
        Hides(#[source] Leaf),
        #[error("shown cause: {0}")]
        Shows(#[source] Leaf),
    }

    #[test]
    fn every_cause_appears_once() {
        assert_eq!(error_chain(&Layer::Hides(Leaf)), "hidden cause: leaf check");
        assert_eq!(error_chain(&Layer::Shows(Leaf)), "shown cause: leaf check");
    }
}
