//! Reading `hlaudit.yaml` strictly: every problem at once, each with file, line, column, a
//! stable code and a hint, rendered like a policy file's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hlaudit_model::Severity;
use hlaudit_report::Format;
use hlaudit_rules::diagnostics::{choice_hint, yaml_kind as kind};
use hlaudit_rules::spans::Seg;
use hlaudit_rules::walk::{child, FileWalk};
use hlaudit_rules::{Diagnostics, Override};
use serde_yaml_ng::{Mapping, Value};

use crate::output::FailOn;

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
    let mut cfg = ConfigFile {
        path: path.to_path_buf(),
        ..ConfigFile::default()
    };
    let doc = match hlaudit_rules::yaml::parse(&name, text) {
        Ok(doc) => doc,
        Err(syntax) => {
            let mut d = Diagnostics::new();
            d.add_source(&name, Arc::from(text));
            d.push(syntax);
            return Err(d);
        }
    };
    let mut r = Reader {
        w: FileWalk::new(&name, Arc::from(text)),
        base: path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    match &doc {
        Value::Mapping(m) => r.top(m, &mut cfg),
        // An empty file is an empty configuration.
        Value::Null => {}
        other => r.w.hint_error(
            &[],
            "wrong-type",
            format!("a configuration file is a mapping, found {}", kind(other)),
            "start with a key such as `fail_on: high`",
        ),
    }
    let problems = r.w.into_diagnostics();
    if problems.is_empty() {
        Ok(cfg)
    } else {
        Err(problems)
    }
}

/// The walk over one configuration file, and the folder its paths are relative to.
struct Reader {
    w: FileWalk,
    base: PathBuf,
}

impl Reader {
    fn wrong(&mut self, at: &[Seg], what: &str, v: &Value) {
        self.w
            .error(at, "wrong-type", format!("{what}, found {}", kind(v)));
    }

    fn top(&mut self, m: &Mapping, cfg: &mut ConfigFile) {
        for (name, v) in self.w.keys(m, &[], &KEYS, "the configuration") {
            let at = child(&[], name);
            let w = &mut self.w;
            match name {
                "rules" => cfg.rules = self.paths(v, &at, "`rules`"),
                "waivers" => cfg.waivers = self.paths(v, &at, "`waivers`"),
                "baseline" => cfg.baseline = self.path(v, &at, "`baseline`"),
                "builtin" => cfg.builtin = w.boolean(v, &at, "`builtin`"),
                "fail_on_new" => cfg.fail_on_new = w.boolean(v, &at, "`fail_on_new`"),
                "only" => cfg.only = strings(w, v, &at, "`only`"),
                "skip" => cfg.skip = strings(w, v, &at, "`skip`"),
                "tags" => cfg.tags = strings(w, v, &at, "`tags`"),
                "frameworks" => cfg.frameworks = strings(w, v, &at, "`frameworks`"),
                "min_severity" => cfg.min_severity = severity(w, v, &at, "`min_severity`"),
                "fail_on" => {
                    cfg.fail_on = match v {
                        Value::String(s) if s == "none" => Some(FailOn::None),
                        _ => severity(w, v, &at, "`fail_on`").map(fail_on),
                    }
                }
                "format" => cfg.format = format(w, v, &at),
                "outputs" => self.outputs(v, &at, cfg),
                "severity" => self.severities(v, &at, cfg),
                "parameters" => self.parameters(v, &at, cfg),
                "min_datastores" => match v {
                    Value::Number(n) if n.as_u64().is_some() => {
                        cfg.min_datastores = n.as_u64().and_then(|d| usize::try_from(d).ok());
                    }
                    other => w.hint_error(
                        &at,
                        "bad-value",
                        format!(
                            "`min_datastores` must be a whole number of data stores, found {}",
                            show(other)
                        ),
                        "1 fails a run whose input holds no data store",
                    ),
                },
                "warn_expiring_days" => match v {
                    Value::Number(n) if n.as_u64().is_some_and(|d| d <= 3650) => {
                        cfg.warn_expiring_days = n.as_u64().and_then(|d| u32::try_from(d).ok());
                    }
                    other => w.error(
                        &at,
                        "bad-value",
                        format!(
                            "`warn_expiring_days` must be a whole number of days from 0 to \
                             3650, found {}",
                            show(other)
                        ),
                    ),
                },
                // `keys` has reported every other key as unknown, with a hint.
                _ => {}
            }
        }
    }

    fn path(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<PathBuf> {
        let s = self.w.non_empty_string(v, at, what)?;
        Some(self.base.join(s))
    }

    fn paths(&mut self, v: &Value, at: &[Seg], what: &str) -> Option<Vec<PathBuf>> {
        let found = strings(&mut self.w, v, at, what)?;
        Some(found.into_iter().map(|s| self.base.join(s)).collect())
    }

    fn outputs(&mut self, v: &Value, at: &[Seg], cfg: &mut ConfigFile) {
        let Value::Mapping(m) = v else {
            self.wrong(at, "`outputs` must be a mapping of format to file", v);
            return;
        };
        for (k, p) in m {
            let Some(name) = k.as_str() else {
                self.w
                    .error(at, "wrong-type", "an output format must be a string");
                continue;
            };
            let kat = child(at, name);
            let Ok(fmt) = name.parse::<Format>() else {
                self.w.key_error(
                    &kat,
                    "unknown-key",
                    format!("unknown output format `{name}`"),
                    Some(choice_hint(name, &format_names())),
                );
                continue;
            };
            if let Some(path) = self.path(p, &kat, &format!("the `{name}` output")) {
                cfg.outputs.insert(fmt, path);
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
                None => self
                    .w
                    .error(at, "wrong-type", "a policy id must be a string"),
            }
        }
        out
    }

    fn severities(&mut self, v: &Value, at: &[Seg], cfg: &mut ConfigFile) {
        let what = "`severity` must be a mapping of policy id to severity";
        for (id, s) in self.by_policy_id(v, at, what) {
            let kat = child(at, id);
            if let Some(sev) = severity(&mut self.w, s, &kat, &format!("`{id}`")) {
                cfg.severity.insert(
                    id.to_owned(),
                    Override {
                        value: serde_json::Value::String(sev.as_str().to_owned()),
                        origin: Some(self.w.origin(&kat)),
                    },
                );
            }
        }
    }

    fn parameters(&mut self, v: &Value, at: &[Seg], cfg: &mut ConfigFile) {
        let what = "`parameters` must be a mapping of policy id to parameter values";
        for (id, ps) in self.by_policy_id(v, at, what) {
            let pat = child(at, id);
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
                    self.w
                        .error(&pat, "wrong-type", "a parameter name must be a string");
                    continue;
                };
                let vat = child(&pat, name);
                match serde_json::to_value(val) {
                    Ok(json) => {
                        cfg.parameters.entry(id.to_owned()).or_default().insert(
                            name.to_owned(),
                            Override {
                                value: json,
                                origin: Some(self.w.origin(&vat)),
                            },
                        );
                    }
                    Err(e) => self.w.error(
                        &vat,
                        "wrong-type",
                        format!("`{name}` is not a plain value: {e}"),
                    ),
                }
            }
        }
    }
}

/// A list of non-empty strings; `None` when it is not one (every bad item is reported).
fn strings(w: &mut FileWalk, v: &Value, at: &[Seg], what: &str) -> Option<Vec<String>> {
    w.list(v, at, what, "strings", FileWalk::non_empty_string)
}

/// A severity named as [`Severity::as_str`] spells it (`fail_on` also takes `none`, read
/// by the caller).
fn severity(w: &mut FileWalk, v: &Value, at: &[Seg], what: &str) -> Option<Severity> {
    let s = w.non_empty_string(v, at, what)?;
    match s.parse::<Severity>() {
        Ok(sev) if s == sev.as_str() => Some(sev),
        _ => {
            let mut names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
            if what == "`fail_on`" {
                names.push("none");
            }
            w.hint_error(
                at,
                "bad-value",
                format!("unknown severity `{s}` for {what}"),
                choice_hint(&s, &names),
            );
            None
        }
    }
}

fn format(w: &mut FileWalk, v: &Value, at: &[Seg]) -> Option<Format> {
    let s = w.non_empty_string(v, at, "a format")?;
    match s.parse::<Format>() {
        Ok(f) => Some(f),
        Err(_) => {
            w.hint_error(
                at,
                "bad-value",
                format!("unknown format `{s}`"),
                choice_hint(&s, &format_names()),
            );
            None
        }
    }
}

fn format_names() -> Vec<&'static str> {
    Format::ALL.iter().map(|f| f.as_str()).collect()
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
