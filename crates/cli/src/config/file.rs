//! Reading `hlaudit.yaml` strictly: every problem at once, each with file, line, column, a
//! stable code and a hint, rendered like a policy file's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hlaudit_model::Severity;
use hlaudit_report::Format;
use hlaudit_rules::diagnostics::{choice_hint, yaml_kind as kind};
use hlaudit_rules::spans::{line_col, locate, token_len, Seg};
use hlaudit_rules::{Diagnostic, Diagnostics, Origin, Override};

use crate::output::FailOn;
use serde_yaml_ng::{Mapping, Value};

/// The keys of a configuration file, as `docs/configuration.md` lists them.
pub const KEYS: [&str; 17] = [
    "rules",
    "builtin",
    "only",
    "skip",
    "tags",
    "frameworks",
    "min_severity",
    "severity",
    "parameters",
    "fail_on",
    "fail_on_new",
    "min_datastores",
    "format",
    "outputs",
    "waivers",
    "warn_expiring_days",
    "baseline",
];

/// A configuration file's values, paths already resolved against its folder. Everything
/// is optional: what is not set keeps the command's default.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    /// The file, as found or given.
    pub path: PathBuf,
    /// Extra policy files or folders.
    pub rules: Option<Vec<PathBuf>>,
    /// `false` = `--no-builtin`.
    pub builtin: Option<bool>,
    /// `--only`.
    pub only: Option<Vec<String>>,
    /// `--skip`.
    pub skip: Option<Vec<String>>,
    /// `--tag`.
    pub tags: Option<Vec<String>>,
    /// `--framework`.
    pub frameworks: Option<Vec<String>>,
    /// `--min-severity`.
    pub min_severity: Option<Severity>,
    /// Policy id -> severity, with where it was written.
    pub severity: BTreeMap<String, Override>,
    /// Policy id -> parameter -> value, with where it was written.
    pub parameters: BTreeMap<String, BTreeMap<String, Override>>,
    /// `--fail-on`.
    pub fail_on: Option<FailOn>,
    /// `--fail-on-new`.
    pub fail_on_new: Option<bool>,
    /// `--min-datastores`.
    pub min_datastores: Option<usize>,
    /// `--format` (what goes to standard output).
    pub format: Option<Format>,
    /// Format -> file, written on every run unless `-o` is given.
    pub outputs: BTreeMap<Format, PathBuf>,
    /// Waiver files.
    pub waivers: Option<Vec<PathBuf>>,
    /// `--warn-expiring`.
    pub warn_expiring_days: Option<u32>,
    /// `--baseline`.
    pub baseline: Option<PathBuf>,
}

/// Parses a configuration file's text. `path` is how problems name the file; relative
/// paths inside it are resolved against its folder.
pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, Diagnostics> {
    let name = path.display().to_string();
    let mut w = Walk {
        file: name.clone(),
        text: Arc::from(text),
        problems: Vec::new(),
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut cfg = ConfigFile {
        path: path.to_path_buf(),
        ..ConfigFile::default()
    };
    match hlaudit_rules::yaml::parse(&name, text) {
        Ok(Value::Mapping(m)) => w.top(&m, &base, &mut cfg),
        // An empty file is an empty configuration.
        Ok(Value::Null) => {}
        Ok(other) => w.push(
            &[],
            false,
            "wrong-type",
            format!("a configuration file is a mapping, found {}", kind(&other)),
            Some("start with a key such as `fail_on: high`".to_owned()),
        ),
        Err(d) => w.problems.push(d),
    }
    if w.problems.is_empty() {
        return Ok(cfg);
    }
    let mut d = Diagnostics::new();
    d.add_source(&name, w.text.clone());
    w.problems.sort();
    for p in w.problems {
        d.push(p);
    }
    Err(d)
}

fn key(at: &[Seg], k: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(k.to_owned()));
    v
}

struct Walk {
    file: String,
    text: Arc<str>,
    problems: Vec<Diagnostic>,
}

impl Walk {
    fn position(&self, at: &[Seg], at_key: bool) -> (usize, usize, usize) {
        let mut n = at.len();
        loop {
            if let Some(off) = locate(&self.text, &at[..n], at_key && n == at.len()) {
                let (l, c) = line_col(&self.text, off);
                return (off, l, c);
            }
            if n == 0 {
                return (0, 1, 1);
            }
            n -= 1;
        }
    }

    fn origin(&self, at: &[Seg]) -> Origin {
        let (_, line, column) = self.position(at, false);
        Origin {
            file: self.file.clone(),
            line,
            column,
        }
    }

    fn push(
        &mut self,
        at: &[Seg],
        at_key: bool,
        code: &'static str,
        message: String,
        hint: Option<String>,
    ) {
        let (offset, line, column) = self.position(at, at_key);
        self.problems.push(Diagnostic {
            file: self.file.clone(),
            line,
            column,
            offset,
            len: token_len(&self.text, offset),
            code,
            message,
            hint,
        });
    }

    fn wrong(&mut self, at: &[Seg], what: &str, v: &Value) {
        self.push(
            at,
            false,
            "wrong-type",
            format!("{what}, found {}", kind(v)),
            None,
        );
    }

    fn top(&mut self, m: &Mapping, base: &Path, cfg: &mut ConfigFile) {
        for (k, v) in m {
            let Some(name) = k.as_str() else {
                self.push(
                    &[],
                    false,
                    "wrong-type",
                    "a key of the configuration must be a string".into(),
                    None,
                );
                continue;
            };
            let at = key(&[], name);
            match name {
                "rules" => cfg.rules = self.paths(v, &at, base, "`rules`"),
                "waivers" => cfg.waivers = self.paths(v, &at, base, "`waivers`"),
                "baseline" => cfg.baseline = self.string(v, &at, "`baseline`").map(|s| base.join(s)),
                "builtin" => cfg.builtin = self.boolean(v, &at, "`builtin`"),
                "fail_on_new" => cfg.fail_on_new = self.boolean(v, &at, "`fail_on_new`"),
                "only" => cfg.only = self.strings(v, &at, "`only`"),
                "skip" => cfg.skip = self.strings(v, &at, "`skip`"),
                "tags" => cfg.tags = self.strings(v, &at, "`tags`"),
                "frameworks" => cfg.frameworks = self.strings(v, &at, "`frameworks`"),
                "min_severity" => cfg.min_severity = self.severity(v, &at, "`min_severity`"),
                "fail_on" => {
                    cfg.fail_on = match v {
                        Value::String(s) if s == "none" => Some(FailOn::None),
                        _ => self.severity(v, &at, "`fail_on`").map(fail_on),
                    }
                }
                "format" => cfg.format = self.format(v, &at),
                "outputs" => self.outputs(v, &at, base, cfg),
                "severity" => self.severities(v, &at, cfg),
                "parameters" => self.parameters(v, &at, cfg),
                "min_datastores" => match v {
                    Value::Number(n) if n.as_u64().is_some() => {
                        cfg.min_datastores = n.as_u64().and_then(|d| usize::try_from(d).ok());
                    }
                    other => self.push(
                        &at,
                        false,
                        "bad-value",
                        format!("`min_datastores` must be a whole number of data stores, found {}", show(other)),
                        Some("1 fails a run whose input holds no data store".to_owned()),
                    ),
                },
                "warn_expiring_days" => match v {
                    Value::Number(n) if n.as_u64().is_some_and(|d| d <= 3650) => {
                        cfg.warn_expiring_days = n.as_u64().and_then(|d| u32::try_from(d).ok());
                    }
                    other => self.push(
                        &at,
                        false,
                        "bad-value",
                        format!("`warn_expiring_days` must be a whole number of days from 0 to 3650, found {}", show(other)),
                        None,
                    ),
                },
                other => {
                    let hint = choice_hint(other, &KEYS);
                    self.push(&at, true, "unknown-key", format!("unknown key `{other}` in the configuration"), Some(hint));
                }
            }
        }
    }

    fn string(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::String(_) => {
                self.push(at, false, "bad-value", format!("{what} is empty"), None);
                None
            }
            other => {
                self.wrong(at, &format!("{what} must be a string"), other);
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.wrong(at, &format!("{what} must be true or false"), other);
                None
            }
        }
    }

    fn strings(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<Vec<String>> {
        let Value::Sequence(items) = v else {
            self.wrong(at, &format!("{what} must be a list of strings"), v);
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, x) in items.iter().enumerate() {
            let mut at = at.to_vec();
            at.push(Seg::Index(i));
            match self.string(x, &at, &format!("each of {what}")) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn paths(&mut self, v: &Value, at: &[Seg], base: &Path, what: &str) -> Option<Vec<PathBuf>> {
        self.strings(v, at, what)
            .map(|v| v.into_iter().map(|s| base.join(s)).collect())
    }

    fn severity(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<Severity> {
        let s = self.string(v, at, what)?;
        match s.parse::<Severity>() {
            Ok(sev) if s == sev.as_str() => Some(sev),
            _ => {
                let mut names = vec!["critical", "high", "medium", "low", "info"];
                if what == "`fail_on`" {
                    names.push("none");
                }
                let hint = choice_hint(&s, &names);
                self.push(
                    at,
                    false,
                    "bad-value",
                    format!("unknown severity `{s}` for {what}"),
                    Some(hint),
                );
                None
            }
        }
    }

    fn format(&mut self, v: &Value, at: &[Seg]) -> Option<Format> {
        let s = self.string(v, at, "a format")?;
        match s.parse::<Format>() {
            Ok(f) => Some(f),
            Err(_) => {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                let hint = choice_hint(&s, &names);
                self.push(
                    at,
                    false,
                    "bad-value",
                    format!("unknown format `{s}`"),
                    Some(hint),
                );
                None
            }
        }
    }

    fn outputs(&mut self, v: &Value, at: &[Seg], base: &Path, cfg: &mut ConfigFile) {
        let Value::Mapping(m) = v else {
            self.wrong(at, "`outputs` must be a mapping of format to file", v);
            return;
        };
        for (k, p) in m {
            let Some(name) = k.as_str() else {
                self.push(
                    at,
                    false,
                    "wrong-type",
                    "an output format must be a string".into(),
                    None,
                );
                continue;
            };
            let kat = key(at, name);
            let fmt = match name.parse::<Format>() {
                Ok(f) => f,
                Err(_) => {
                    let names: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                    let hint = choice_hint(name, &names);
                    self.push(
                        &kat,
                        true,
                        "unknown-key",
                        format!("unknown output format `{name}`"),
                        Some(hint),
                    );
                    continue;
                }
            };
            if let Some(s) = self.string(p, &kat, &format!("the `{name}` output")) {
                cfg.outputs.insert(fmt, base.join(s));
            }
        }
    }

    /// The entries of a mapping keyed by policy id; a value that is not a mapping, and a
    /// key that is not a string, are reported (`what` says what the mapping must be).
    fn by_policy_id<'v>(
        &mut self,
        v: &'v Value,
        at: &[Seg],
        what: &str,
    ) -> Vec<(&'v str, &'v Value)> {
        let Value::Mapping(m) = v else {
            self.wrong(at, what, v);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(m.len());
        for (k, x) in m {
            match k.as_str() {
                Some(id) => out.push((id, x)),
                None => self.push(
                    at,
                    false,
                    "wrong-type",
                    "a policy id must be a string".into(),
                    None,
                ),
            }
        }
        out
    }

    fn severities(&mut self, v: &Value, at: &[Seg], cfg: &mut ConfigFile) {
        let what = "`severity` must be a mapping of policy id to severity";
        for (id, s) in self.by_policy_id(v, at, what) {
            let kat = key(at, id);
            if let Some(sev) = self.severity(s, &kat, &format!("`{id}`")) {
                let origin = self.origin(&kat);
                cfg.severity.insert(
                    id.to_owned(),
                    Override {
                        value: serde_json::Value::String(sev.as_str().to_owned()),
                        origin: Some(origin),
                    },
                );
            }
        }
    }

    fn parameters(&mut self, v: &Value, at: &[Seg], cfg: &mut ConfigFile) {
        let what = "`parameters` must be a mapping of policy id to parameter values";
        for (id, ps) in self.by_policy_id(v, at, what) {
            let pat = key(at, id);
            let Value::Mapping(ps) = ps else {
                self.wrong(
                    &pat,
                    &format!("the parameters of `{id}` must be a mapping of name to value"),
                    ps,
                );
                continue;
            };
            for (n, val) in ps {
                let Some(name) = n.as_str() else {
                    self.push(
                        &pat,
                        false,
                        "wrong-type",
                        "a parameter name must be a string".into(),
                        None,
                    );
                    continue;
                };
                let vat = key(&pat, name);
                match serde_json::to_value(val) {
                    Ok(json) => {
                        let origin = self.origin(&vat);
                        cfg.parameters.entry(id.to_owned()).or_default().insert(
                            name.to_owned(),
                            Override {
                                value: json,
                                origin: Some(origin),
                            },
                        );
                    }
                    Err(e) => self.push(
                        &vat,
                        false,
                        "wrong-type",
                        format!("`{name}` is not a plain value: {e}"),
                        None,
                    ),
                }
            }
        }
    }
}

fn fail_on(s: Severity) -> FailOn {
    match s {
        Severity::Critical => FailOn::Critical,
        Severity::High => FailOn::High,
        Severity::Medium => FailOn::Medium,
        Severity::Low => FailOn::Low,
        Severity::Info => FailOn::Info,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        other => kind(other).to_owned(),
    }
}

#[cfg(test)]
mod robustness;

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(name: &str, text: &str) -> Diagnostics {
        match parse(Path::new(name), text) {
            Ok(c) => panic!("{name} loaded: {c:?}"),
            Err(d) => d,
        }
    }

    #[test]
    fn reports_every_problem_of_a_bad_file_at_once() {
        let d = errors(
            "bad.yaml",
            include_str!("../../../../fixtures/config/bad.yaml"),
        );
        let got: Vec<_> = d
            .items()
            .iter()
            .map(|x| (x.code, x.line, x.column))
            .collect();
        assert_eq!(
            got,
            [
                ("unknown-key", 2, 1),
                ("bad-value", 3, 15),
                ("wrong-type", 4, 7),
                ("unknown-key", 7, 3),
                ("bad-value", 9, 14),
                ("wrong-type", 11, 14),
                ("bad-value", 12, 21),
                ("wrong-type", 13, 10),
            ]
        );
        let hints: Vec<_> = d.items().iter().filter_map(|x| x.hint.as_deref()).collect();
        assert!(hints.contains(&"did you mean `fail_on`?"), "{hints:?}");
        assert!(hints.contains(&"did you mean `high`?"), "{hints:?}");
        insta::assert_snapshot!(
            "config_errors_bad",
            d.render_for(false, "the configuration file")
        );
    }

    #[test]
    fn reads_every_key_and_resolves_paths_against_the_file() {
        let cfg = parse(
            Path::new("ci/full.yaml"),
            include_str!("../../../../fixtures/config/full.yaml"),
        )
        .unwrap();
        assert_eq!(cfg.rules, Some(vec![PathBuf::from("ci/policies/")]));
        assert_eq!(cfg.builtin, Some(false));
        assert_eq!(cfg.only.as_deref(), Some(&["HL-*".to_owned()][..]));
        assert_eq!(cfg.min_severity, Some(Severity::Low));
        assert_eq!(cfg.fail_on, Some(FailOn::Medium));
        assert_eq!(cfg.format, Some(Format::Markdown));
        assert_eq!(
            cfg.outputs[&Format::Json],
            PathBuf::from("ci/reports/out.json")
        );
        assert_eq!(
            cfg.waivers,
            Some(vec![PathBuf::from("ci/../waivers/waivers.yaml")])
        );
        assert_eq!(cfg.warn_expiring_days, Some(30));
        let sev = &cfg.severity["HL-TAG-01"];
        assert_eq!(sev.value, serde_json::json!("critical"));
        let origin = sev.origin.as_ref().unwrap();
        assert_eq!((origin.file.as_str(), origin.line), ("ci/full.yaml", 10));
        let p = &cfg.parameters["HL-TAG-01"]["required_tag_keys"];
        assert_eq!(p.value, serde_json::json!(["Owner"]));
        assert_eq!(p.origin.as_ref().unwrap().line, 13);
    }

    #[test]
    fn empty_file_and_syntax_errors() {
        assert!(parse(Path::new("e.yaml"), "").is_ok());
        assert!(parse(Path::new("e.yaml"), "# only a comment\n").is_ok());
        let d = errors("s.yaml", "fail_on: [high\n");
        assert_eq!(d.items()[0].code, "yaml-syntax");
        let d = errors("l.yaml", "- fail_on\n");
        assert_eq!(d.items()[0].code, "wrong-type");
        let d = errors("n.yaml", "fail_on: none\nwarn_expiring_days: 99999\n");
        assert_eq!(d.len(), 1);
        assert_eq!((d.items()[0].line, d.items()[0].code), (2, "bad-value"));
        for bad in [
            "min_datastores: -1\n",
            "min_datastores: one\n",
            "min_datastores: 1.5\n",
        ] {
            let d = errors("m.yaml", bad);
            assert_eq!((d.len(), d.items()[0].code), (1, "bad-value"), "{bad}");
        }
        let cfg = parse(Path::new("ok.yaml"), "min_datastores: 1\n").unwrap();
        assert_eq!(cfg.min_datastores, Some(1));
    }

    #[test]
    fn severity_and_parameters_are_keyed_by_policy_id() {
        let d = errors("m.yaml", "severity: [high]\nparameters: 3\n");
        let got: Vec<_> = d.items().iter().map(|x| (x.code, x.line)).collect();
        assert_eq!(got, [("wrong-type", 1), ("wrong-type", 2)]);
        assert!(d.items()[0]
            .message
            .contains("`severity` must be a mapping of policy id"));
        assert!(d.items()[1]
            .message
            .contains("`parameters` must be a mapping of policy id"));
        let d = errors(
            "k.yaml",
            "severity:\n  1: high\n  HL-A: low\nparameters:\n  [x]: {}\n",
        );
        let got: Vec<_> = d.items().iter().map(|x| x.message.as_str()).collect();
        assert_eq!(got, ["a policy id must be a string"; 2]);
        let cfg = parse(Path::new("ok.yaml"), "severity:\n  HL-A: low\n").unwrap();
        assert_eq!(cfg.severity["HL-A"].value, serde_json::json!("low"));
    }
}
