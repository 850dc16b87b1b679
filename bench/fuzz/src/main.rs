//! One AFL++ target per reader of untrusted input, chosen by the first argument:
//! `snapshot`, `policy`, `waiver`, `report`, `json-doc`, `arn`, `timestamp`. A panic is
//! a crash and a slow input a hang, for AFL to keep; the rest of the property (errors
//! carry a location) is checked by the mutation harness in `tests/tests/robustness.rs`,
//! where a crash found here is replayed once kept in `fixtures/robustness/<reader>/`.

use std::sync::OnceLock;

use hlaudit_model::{Arn, Timestamp};

fn builtin() -> &'static hlaudit_rules::CompiledPolicySet {
    static SET: OnceLock<hlaudit_rules::CompiledPolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        hlaudit_rules::compile(
            &hlaudit_rules::builtin_sources(),
            &hlaudit_rules::Overrides::none(),
        )
        .unwrap_or_else(|d| panic!("the built-in pack does not compile: {d}"))
    })
}

fn snapshot(data: &[u8]) {
    match hlaudit_model::snapshot::read_reader("in.json", data) {
        // every policy over whatever records came through
        Ok(inv) => {
            let at = hlaudit_rules::default_test_time();
            let _ = hlaudit_rules::evaluate(builtin(), &inv, hlaudit_rules::EvalOptions::at(at));
        }
        Err(e) => {
            let _ = e.render();
        }
    }
}

fn yaml_text(data: &[u8]) -> Option<String> {
    match hlaudit_rules::yaml::text("in.yaml", data.to_vec()) {
        Ok(t) => Some(t),
        Err(d) => {
            let _ = d.to_string();
            None
        }
    }
}

fn policy(data: &[u8]) {
    let Some(text) = yaml_text(data) else { return };
    let src = hlaudit_rules::PolicySource::from_text("in.yaml", text);
    if let Err(d) = hlaudit_rules::compile(&[src], &hlaudit_rules::Overrides::none()) {
        let _ = (d.render(true), d.render(false));
    }
}

fn waiver(data: &[u8]) {
    let Some(text) = yaml_text(data) else { return };
    let src = hlaudit_rules::waiver::WaiverSource::from_text("in.yaml", text);
    if let Err(d) = hlaudit_rules::waiver::load_waivers(&[src]) {
        let _ = (d.render(true), d.render(false));
    }
}

fn report(data: &[u8]) {
    if let Ok(r) = hlaudit_report::json::read(&mut &data[..]) {
        let _ = hlaudit_report::baseline::Baseline::from_report(&r);
        let _ = hlaudit_report::baseline::diff(&r, &r);
    }
}

fn json_doc(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = hlaudit_rules::value::parse_full(&text);
}

fn arn(data: &[u8]) {
    if let Ok(a) = Arn::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(Arn::parse(&a.to_string()).ok(), Some(a));
    }
}

fn timestamp(data: &[u8]) {
    if let Ok(t) = Timestamp::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(
            Timestamp::parse(&t.to_rfc3339())
                .ok()
                .map(|x| x.to_rfc3339()),
            Some(t.to_rfc3339())
        );
    }
}

fn main() {
    let reader = std::env::args().nth(1).unwrap_or_default();
    let target: fn(&[u8]) = match reader.as_str() {
        "snapshot" => snapshot,
        "policy" => policy,
        "waiver" => waiver,
        "report" => report,
        "json-doc" => json_doc,
        "arn" => arn,
        "timestamp" => timestamp,
        other => panic!("unknown reader `{other}`: snapshot, policy, waiver, report, json-doc, arn or timestamp"),
    };
    if reader == "snapshot" {
        builtin();
    }
    afl::fuzz!(|data: &[u8]| target(data));
}
