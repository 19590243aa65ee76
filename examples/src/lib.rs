//! Programs that compose the attested crates. Each binary under `src/bin/` is one tool.

pub mod chat_client;
pub mod llm_proxy;
pub mod mock_llm;
pub mod mock_whisper;
pub mod nitro_evidence;
pub mod noise_demo;
pub mod ohttp_gateway;
pub mod pipeline;
pub mod tdx_evidence;
pub mod tdx_verify_cli;
pub mod whisper_client;
