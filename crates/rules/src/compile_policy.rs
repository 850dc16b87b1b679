//! Compiling one policy mapping: metadata, parameters (with overrides), conditions, the
//! message template and inline tests.

use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::{Arc, OnceLock};

use hlaudit_model::report::PolicyMeta;
use hlaudit_model::{Kind, Record, Severity, Source, Status, Timestamp};
use serde_yaml_ng::{Mapping, Value};

use crate::compile_cond::{CondCompiler, Named};
use crate::diagnostics::{choice_hint, did_you_mean};
use crate::overrides::Overrides;
use crate::params::{ParamType, Parameter};
use crate::set::{
    default_test_time, CompiledPolicy, Conditions, Piece, TestCase, TestConditions, TestInput,
    TestSite,
};
use crate::shared::Shared;
use crate::spans::Seg;
use crate::value::Val;
use crate::walk::{child, index, kind, yaml_to_json, yaml_to_val, FileWalk};

const POLICY_KEYS: [&str; 16] = [
    "id",
    "title",
    "severity",
    "description",
    "rationale",
    "remediation",
    "references",
    "compliance",
    "tags",
    "kinds",
    "runtime",
    "parameters",
    "applies_when",
    "assert",
    "message",
    "tests",
];
const REQUIRED: [&str; 5] = ["id", "title", "severity", "description", "assert"];
const PARAM_KEYS: [&str; 3] = ["type", "default", "description"];
const TEST_KEYS: [&str; 12] = [
    "name",
    "kind",
    "record",
    "datastore_record",
    "datastore_tags",
    "fixture",
    "datastore",
    "tags",
    "enrichments",
    "as_of",
    "params",
    "expect",
];

/// The default `DatastoreId` and `DatastoreArn` of a test record.
pub(crate) const TEST_ID: &str = "test";
pub(crate) const TEST_ARN: &str = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/test";
/// The account and region of [`TEST_ARN`], which a test transformation profile lives in.
const TEST_ACCOUNT: &str = "123456789012";
const TEST_REGION: &str = "us-east-1";
/// The default `JobId` of a test job and `ProfileId` of a test profile.
const TEST_JOB_ID: &str = "test-job";
const TEST_PROFILE_ID: &str = "test-profile";

/// Everything needed to compile the policies of one file.
pub(crate) struct PolicyCx<'a, 'v> {
    pub w: &'a mut FileWalk,
    pub shared: &'a mut Shared,
    pub named: &'a BTreeMap<String, Named<'v>>,
    pub overrides: &'a Overrides,
    pub base_dir: Option<&'a FsPath>,
}

fn valid_id(id: &str) -> bool {
    let mut cs = id.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic())
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl PolicyCx<'_, '_> {
    /// Compiles the policy at `at`; `None` when it has problems (all reported).
    pub fn policy(&mut self, m: &Mapping, at: &[Seg]) -> Option<CompiledPolicy> {
        let fields = Fields(self.w.keys(m, at, &POLICY_KEYS, "a policy"));
        let mut ok = fields.0.len() == m.len();
        ok &= self.has_required_keys(&fields, at);
        let id = self.text(&fields, at, "id");
        ok &= id.as_deref().is_none_or(|id| self.check_id(id, at));
        let (params, params_ok) = self.parameters(
            fields.get("parameters"),
            &child(at, "parameters"),
            id.as_deref().unwrap_or_default(),
        );
        ok &= params_ok;
        let meta = self.metadata(&fields, id, at);
        let kinds = match fields.get("kinds") {
            Some(v) => self.kinds(v, &child(at, "kinds")),
            None => Some(vec![Kind::default()]),
        };
        let runtime = match fields.get("runtime") {
            Some(v) => self.w.boolean(v, &child(at, "runtime"), "`runtime`"),
            None => Some(false),
        };
        ok &= runtime.is_some();
        let conditions = self.conditions(
            fields.get("applies_when"),
            fields.get("assert"),
            at,
            &params,
        );
        let message = match fields.get("message") {
            Some(v) => self.template(v, &child(at, "message"), &params),
            None => Some(Vec::new()),
        };
        let tests = match fields.get("tests") {
            Some(v) => self.tests(
                v,
                &child(at, "tests"),
                &params,
                kinds.as_deref().unwrap_or(&[Kind::Datastore]),
            ),
            None => Some(Vec::new()),
        };
        if !ok {
            return None;
        }
        let Conditions { applies, assert } = conditions?;
        let mut parameters: Vec<Parameter> = params.into_values().collect();
        parameters.sort_by_key(|p| p.name.clone());
        Some(CompiledPolicy {
            meta: meta?,
            parameters,
            kinds: kinds?,
            runtime: runtime?,
            tests: tests?,
            applies,
            assert,
            message: message?,
        })
    }

    /// Reports each required key the policy lacks; true when it has them all.
    fn has_required_keys(&mut self, fields: &Fields<'_>, at: &[Seg]) -> bool {
        let mut all = true;
        for r in REQUIRED {
            if fields.get(r).is_none() {
                self.w.error(
                    at,
                    "missing-key",
                    format!("this policy has no `{r}` (required)"),
                );
                all = false;
            }
        }
        all
    }

    /// A string field of the policy, when present.
    fn text(&mut self, fields: &Fields<'_>, at: &[Seg], key: &str) -> Option<String> {
        let v = fields.get(key)?;
        self.w.string(v, &child(at, key), &format!("`{key}`"))
    }

    /// Reports an id that does not follow the syntax; true when it does.
    fn check_id(&mut self, id: &str, at: &[Seg]) -> bool {
        if !valid_id(id) {
            self.w.hint_error(
                &child(at, "id"),
                "bad-value",
                format!("`{id}` is not a valid policy id"),
                "an id starts with a letter and holds letters, digits, `_`, `.` and `-`",
            );
        }
        valid_id(id)
    }

    /// The policy's metadata (with the severity in effect and where it is written);
    /// `None` when a required field has problems (all reported).
    fn metadata(
        &mut self,
        fields: &Fields<'_>,
        id: Option<String>,
        at: &[Seg],
    ) -> Option<PolicyMeta> {
        let title = self.text(fields, at, "title");
        let description = self.text(fields, at, "description");
        let rationale = self.text(fields, at, "rationale").unwrap_or_default();
        let remediation = self.text(fields, at, "remediation").unwrap_or_default();
        let severity = fields
            .get("severity")
            .and_then(|v| self.severity(v, &child(at, "severity")));
        let severity = match (&id, severity) {
            (Some(id), Some(sev)) => self.effective_severity(id, sev),
            (_, sev) => sev,
        };
        let references = fields
            .get("references")
            .map(|v| self.w.strings(v, &child(at, "references"), "`references`"))
            .unwrap_or_default();
        let tags = fields
            .get("tags")
            .map(|v| self.w.strings(v, &child(at, "tags"), "`tags`"))
            .unwrap_or_default();
        let compliance = fields
            .get("compliance")
            .map(|v| self.compliance(v, &child(at, "compliance")))
            .unwrap_or_default();
        let (_, line, column) = self.w.position(at, false);
        Some(PolicyMeta {
            id: id?,
            title: title?,
            severity: severity?,
            description: description?,
            rationale,
            remediation,
            references,
            compliance,
            tags,
            source: Some(Source {
                file: Arc::from(self.w.file.as_str()),
                line: line as u32,
                column: column as u32,
            }),
        })
    }

    fn severity(&mut self, v: &Value, at: &[Seg]) -> Option<Severity> {
        let s = self.w.string(v, at, "`severity`")?;
        match s.parse::<Severity>() {
            Ok(sev) if s == sev.as_str() => Some(sev),
            _ => {
                let names = ["critical", "high", "medium", "low", "info"];
                let hint = did_you_mean(&s, &names).map_or_else(
                    || "expected one of: critical, high, medium, low, info".to_owned(),
                    |x| format!("did you mean `{x}`?"),
                );
                self.w
                    .hint_error(at, "bad-value", format!("unknown severity `{s}`"), hint);
                None
            }
        }
    }

    /// The severity in effect: the configured override when there is one (`None` when it
    /// is not a severity, reported), else the one the policy declares.
    fn effective_severity(&mut self, id: &str, declared: Severity) -> Option<Severity> {
        let Some(o) = self.overrides.severities.get(id) else {
            return Some(declared);
        };
        let sev = o.value.as_str().and_then(|s| s.parse::<Severity>().ok());
        if sev.is_none() {
            self.overrides.report(
                o,
                format!(
                    "the severity override for `{id}` is not a severity: {}",
                    o.value
                ),
            );
        }
        sev
    }

    /// The kinds of record a policy applies to: a non-empty list of kind names, each once,
    /// returned in the order of [`Kind::ALL`].
    fn kinds(&mut self, v: &Value, at: &[Seg]) -> Option<Vec<Kind>> {
        let names = Kind::ALL.map(Kind::as_str);
        let listing = names.join(", ");
        let Value::Sequence(items) = v else {
            self.w.hint_error(
                at,
                "wrong-type",
                format!("`kinds` must be a list of kind names, found {}", kind(v)),
                format!("e.g. `kinds: [datastore, export-job]`; the kinds are {listing}"),
            );
            return None;
        };
        if items.is_empty() {
            self.w.hint_error(
                at,
                "bad-value",
                "`kinds` is empty: a policy applies to at least one kind of record",
                format!("name some of {listing}, or leave `kinds` out to mean `[datastore]`"),
            );
            return None;
        }
        let mut out: Vec<Kind> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let at_i = index(at, i);
            let Some(name) = self.w.string(item, &at_i, "each of `kinds`") else {
                ok = false;
                continue;
            };
            match name.parse::<Kind>() {
                Ok(k) if out.contains(&k) => {
                    self.w.error(
                        &at_i,
                        "bad-value",
                        format!("the kind `{k}` is listed twice in `kinds`"),
                    );
                    ok = false;
                }
                Ok(k) => out.push(k),
                Err(_) => {
                    let hint = match did_you_mean(&name, &names) {
                        Some(x) => format!("did you mean `{x}`? the kinds are {listing}"),
                        None => format!("the kinds are {listing}"),
                    };
                    self.w
                        .hint_error(&at_i, "bad-value", format!("unknown kind `{name}`"), hint);
                    ok = false;
                }
            }
        }
        out.sort();
        ok.then_some(out)
    }

    fn compliance(&mut self, v: &Value, at: &[Seg]) -> BTreeMap<String, Vec<String>> {
        let Value::Mapping(m) = v else {
            self.w.hint_error(
                at,
                "wrong-type",
                format!("`compliance` must be a mapping, found {}", kind(v)),
                "e.g. `HIPAA: [\"164.312(a)(2)(iv)\"]`",
            );
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, ids) in m {
            let Some(fw) = k.as_str() else {
                self.w
                    .error(at, "wrong-type", "a framework name must be a string");
                continue;
            };
            let list = self.w.strings(ids, &child(at, fw), "control ids");
            out.insert(fw.to_owned(), list);
        }
        out
    }

    fn parameters(
        &mut self,
        v: Option<&Value>,
        at: &[Seg],
        id: &str,
    ) -> (BTreeMap<String, Parameter>, bool) {
        let mut out = BTreeMap::new();
        let mut ok = true;
        let empty = BTreeMap::new();
        let overrides = self.overrides.params.get(id).unwrap_or(&empty);
        match v {
            None => {}
            Some(Value::Mapping(m)) => {
                for (k, pv) in m {
                    let Some(name) = k.as_str() else {
                        self.w
                            .error(at, "wrong-type", "a parameter name must be a string");
                        ok = false;
                        continue;
                    };
                    match self.parameter(name, pv, &child(at, name)) {
                        Some(p) => {
                            out.insert(name.to_owned(), p);
                        }
                        None => ok = false,
                    }
                }
            }
            Some(other) => {
                self.w.error(
                    at,
                    "wrong-type",
                    format!("`parameters` must be a mapping, found {}", kind(other)),
                );
                ok = false;
            }
        }
        for (name, o) in overrides {
            match out.get_mut(name) {
                Some(p) => {
                    let val = Val::from_json(&o.value).into_owned();
                    match p.ty.check(&val) {
                        Ok(()) => {
                            p.value = o.value.clone();
                            p.val = val;
                        }
                        Err(e) => {
                            self.overrides
                                .report(o, format!("parameter `{name}` of `{id}` ({}): {e}", p.ty));
                            ok = false;
                        }
                    }
                }
                None if ok => {
                    let names: Vec<&str> = out.keys().map(String::as_str).collect();
                    let hint = did_you_mean(name, &names)
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    self.overrides
                        .report(o, format!("`{id}` has no parameter `{name}`{hint}"));
                }
                None => {}
            }
        }
        (out, ok)
    }

    fn parameter(&mut self, name: &str, v: &Value, at: &[Seg]) -> Option<Parameter> {
        let Value::Mapping(m) = v else {
            self.w.hint_error(
                at,
                "wrong-type",
                format!("parameter `{name}` must be a mapping, found {}", kind(v)),
                "e.g. `{type: integer, default: 7, description: ...}`",
            );
            return None;
        };
        let entries = self.w.keys(m, at, &PARAM_KEYS, "a parameter");
        let get = |k: &str| entries.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let mut missing = false;
        for r in PARAM_KEYS {
            if get(r).is_none() {
                self.w.error(
                    at,
                    "missing-key",
                    format!("parameter `{name}` has no `{r}`"),
                );
                missing = true;
            }
        }
        let ty_s = get("type").and_then(|t| self.w.string(t, &child(at, "type"), "`type`"));
        let ty = match ty_s {
            Some(t) => match ParamType::from_name(&t) {
                Some(ty) => Some(ty),
                None => {
                    let hint = choice_hint(&t, &ParamType::NAMES);
                    self.w.hint_error(
                        &child(at, "type"),
                        "bad-value",
                        format!("unknown parameter type `{t}`"),
                        hint,
                    );
                    None
                }
            },
            None => None,
        };
        let description = get("description")
            .and_then(|d| self.w.string(d, &child(at, "description"), "`description`"));
        let default = get("default")?;
        let val = yaml_to_val(default)?;
        let ty = ty?;
        if let Err(e) = ty.check(&val) {
            self.w.error(
                &child(at, "default"),
                "wrong-type",
                format!("the default of `{name}` ({ty}): {e}"),
            );
            return None;
        }
        if ty == ParamType::Regex {
            if let Val::Str(s) = &val {
                if let Err(e) = regex::Regex::new(s) {
                    let last = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                    self.w.error(
                        &child(at, "default"),
                        "bad-regex",
                        format!("`{s}` is not a valid regex: {last}"),
                    );
                    return None;
                }
            }
        }
        if missing {
            return None;
        }
        let value = yaml_to_json(default)?;
        Some(Parameter {
            name: name.to_owned(),
            ty,
            default: value.clone(),
            description: description?,
            value,
            val,
        })
    }

    fn cond_compiler<'b>(
        &'b mut self,
        params: &'b BTreeMap<String, Parameter>,
    ) -> CondCompiler<'b, 'b>
    where
        Self: 'b,
    {
        CondCompiler {
            w: self.w,
            shared: self.shared,
            params,
            named: self.named,
            stack: Vec::new(),
        }
    }

    /// Compiles `applies_when` (absent: applies everywhere) and `assert`; `None` when either
    /// has problems (all reported).
    fn conditions(
        &mut self,
        applies: Option<&Value>,
        assert: Option<&Value>,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
    ) -> Option<Conditions> {
        let mut cc = self.cond_compiler(params);
        let applies = match applies {
            None => Ok(None),
            Some(v) => cc
                .cond(v, &child(at, "applies_when"), false)
                .map(Some)
                .ok_or(()),
        };
        let assert = assert.and_then(|v| cc.cond(v, &child(at, "assert"), false));
        Some(Conditions {
            applies: applies.ok()?,
            assert: assert?,
        })
    }

    fn template(
        &mut self,
        v: &Value,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
    ) -> Option<Vec<Piece>> {
        let text = self.w.string(v, at, "`message`")?;
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        let mut cc = self.cond_compiler(params);
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                pieces.push(Piece::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                cc.w.hint_error(
                    at,
                    "bad-value",
                    "`{{` without a closing `}}` in the message",
                    "write `{{PATH}}` or `{{$PARAM}}`",
                );
                return None;
            };
            let inner = after[..end].trim();
            if let Some(p) = inner
                .strip_prefix('$')
                .filter(|p| !p.contains(['.', '[', '|']))
            {
                match params.get(p) {
                    Some(param) => pieces.push(Piece::Text(param.val.to_string())),
                    None => {
                        let names: Vec<&str> = params.keys().map(String::as_str).collect();
                        let hint = did_you_mean(p, &names).map_or_else(
                            || "declare it under `parameters`".to_owned(),
                            |s| format!("did you mean `{s}`?"),
                        );
                        cc.w.hint_error(
                            at,
                            "unknown-parameter",
                            format!("unknown parameter `{p}` in the message"),
                            hint,
                        );
                        return None;
                    }
                }
            } else {
                pieces.push(Piece::Path(cc.path(inner, at, false)?));
            }
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Some(pieces)
    }

    fn tests(
        &mut self,
        v: &Value,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
        kinds: &[Kind],
    ) -> Option<Vec<TestCase>> {
        let Value::Sequence(items) = v else {
            self.w.error(
                at,
                "wrong-type",
                format!("`tests` must be a list, found {}", kind(v)),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut names = std::collections::BTreeSet::new();
        for (i, t) in items.iter().enumerate() {
            let at_i = index(at, i);
            match self.test(t, &at_i, params, kinds) {
                Some(tc) => {
                    if !names.insert(tc.name.clone()) {
                        self.w.error(
                            &child(&at_i, "name"),
                            "bad-value",
                            format!("a second test named `{}`", tc.name),
                        );
                        ok = false;
                    }
                    out.push(tc);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn test(
        &mut self,
        v: &Value,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
        kinds: &[Kind],
    ) -> Option<TestCase> {
        let Value::Mapping(m) = v else {
            self.w.error(
                at,
                "wrong-type",
                format!("a test must be a mapping, found {}", kind(v)),
            );
            return None;
        };
        let fields = Fields(self.w.keys(m, at, &TEST_KEYS, "a test"));
        let keys_ok = fields.0.len() == m.len();
        let name = self.test_name(fields.get("name"), at);
        let expect = self.test_expect(fields.get("expect"), at);
        let as_of = self.test_as_of(fields.get("as_of"), at);
        let input = self.test_input(&fields, at, kinds);
        let conditions = match fields.get("params") {
            None => Some(TestConditions::Policy),
            Some(pv) => self
                .test_variant(pv, &child(at, "params"), params, at)
                .map(|c| TestConditions::WithParams(Arc::new(c))),
        };
        if !keys_ok {
            return None;
        }
        Some(TestCase {
            name: name?,
            input: input?,
            as_of: as_of?,
            expect: expect?,
            site: TestSite {
                file: Arc::from(self.w.file.as_str()),
                text: self.w.text.clone(),
                at: at.to_vec(),
                source: OnceLock::new(),
            },
            conditions: conditions?,
        })
    }

    /// A test's required `name`.
    fn test_name(&mut self, v: Option<&Value>, at: &[Seg]) -> Option<String> {
        let Some(v) = v else {
            self.w
                .error(at, "missing-key", "this test has no `name` (required)");
            return None;
        };
        self.w.string(v, &child(at, "name"), "`name`")
    }

    /// A test's required `expect`: a status other than WAIVED.
    fn test_expect(&mut self, v: Option<&Value>, at: &[Seg]) -> Option<Status> {
        let Some(v) = v else {
            self.w
                .error(at, "missing-key", "this test has no `expect` (required)");
            return None;
        };
        let at_e = child(at, "expect");
        let s = self.w.string(v, &at_e, "`expect`")?;
        match s.parse::<Status>() {
            Ok(st) if st != Status::Waived => Some(st),
            _ => {
                self.w.hint_error(
                    &at_e,
                    "bad-value",
                    format!("`{s}` is not a status a test can expect"),
                    "expected one of: PASS, FAIL, SKIP, ERROR",
                );
                None
            }
        }
    }

    /// A test's evaluation time: `as_of`, or the fixed default.
    fn test_as_of(&mut self, v: Option<&Value>, at: &[Seg]) -> Option<Timestamp> {
        let Some(v) = v else {
            return Some(default_test_time());
        };
        let t = yaml_to_val(v).as_ref().and_then(crate::ops::timestamp);
        if t.is_none() {
            self.w.hint_error(
                &child(at, "as_of"),
                "bad-value",
                "`as_of` is not a timestamp",
                "e.g. 2026-01-31T00:00:00Z",
            );
        }
        t
    }

    /// What a test runs on: a `record` (with its `kind`, `tags` and `enrichments`, and for
    /// a job its `datastore_record` and `datastore_tags`) or a `fixture` (with a
    /// `datastore`), never both, and without the other one's keys.
    fn test_input(&mut self, fields: &Fields<'_>, at: &[Seg], kinds: &[Kind]) -> Option<TestInput> {
        match (fields.get("record"), fields.get("fixture")) {
            (Some(r), None) => {
                let alone = self.keys_of_the_other_input(fields, at, &["datastore"], |k| {
                    format!("`{k}` goes with `fixture`, not `record`")
                });
                let kind = self.test_kind(fields.get("kind"), at, kinds);
                let input = kind.and_then(|kind| self.test_record(r, kind, fields, at));
                input.filter(|_| alone)
            }
            (None, Some(f)) => {
                let alone = self.keys_of_the_other_input(
                    fields,
                    at,
                    &[
                        "tags",
                        "enrichments",
                        "kind",
                        "datastore_record",
                        "datastore_tags",
                    ],
                    |k| format!("`{k}` goes with `record`; a fixture carries its own"),
                );
                let input = self.test_fixture(f, fields.get("datastore"), at);
                input.filter(|_| alone)
            }
            (Some(_), Some(_)) => {
                self.w.error(
                    at,
                    "bad-value",
                    "a test has `record` or `fixture`, not both",
                );
                None
            }
            (None, None) => {
                self.w.error(
                    at,
                    "missing-key",
                    "this test has neither `record` nor `fixture`",
                );
                None
            }
        }
    }

    /// Reports each of `keys` the test has (they belong to the other kind of input);
    /// true when it has none.
    fn keys_of_the_other_input(
        &mut self,
        fields: &Fields<'_>,
        at: &[Seg],
        keys: &[&str],
        message: impl Fn(&str) -> String,
    ) -> bool {
        let mut none = true;
        for k in keys {
            if fields.get(k).is_some() {
                self.w
                    .key_error(&child(at, k), "unknown-key", message(k), None);
                none = false;
            }
        }
        none
    }

    /// A test's `fixture` (relative to the policy file) and optional `datastore`.
    fn test_fixture(
        &mut self,
        f: &Value,
        datastore: Option<&Value>,
        at: &[Seg],
    ) -> Option<TestInput> {
        let file = self.w.string(f, &child(at, "fixture"), "`fixture`");
        let datastore =
            datastore.and_then(|d| self.w.string(d, &child(at, "datastore"), "`datastore`"));
        let file = file?;
        Some(TestInput::Fixture {
            path: match self.base_dir {
                Some(b) => b.join(&file),
                None => file.into(),
            },
            datastore,
        })
    }

    /// A test's `kind`: one of the policy's kinds, by default the first of them.
    fn test_kind(&mut self, v: Option<&Value>, at: &[Seg], kinds: &[Kind]) -> Option<Kind> {
        let first = kinds.first().copied().unwrap_or_default();
        let Some(v) = v else {
            return Some(first);
        };
        let at_k = child(at, "kind");
        let name = self.w.string(v, &at_k, "`kind`")?;
        match name.parse::<Kind>() {
            Ok(k) if kinds.contains(&k) => Some(k),
            _ => {
                let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                self.w.hint_error(
                    &at_k,
                    "bad-value",
                    format!("`{name}` is not a kind this policy applies to"),
                    format!("the policy's kinds are {}", names.join(", ")),
                );
                None
            }
        }
    }

    /// A test's `record` of `kind` (ids defaulting to test values), with its optional
    /// `tags` and `enrichments`, and for a job its optional `datastore_record` (with
    /// `datastore_tags`), which it is linked to as the inventory links a job.
    fn test_record(
        &mut self,
        r: &Value,
        kind: Kind,
        fields: &Fields<'_>,
        at: &[Seg],
    ) -> Option<TestInput> {
        let store_keys = ["datastore_record", "datastore_tags"];
        if !kind.belongs_to_datastore() {
            let alone = self.keys_of_the_other_input(fields, at, &store_keys, |k| {
                format!(
                    "`{k}` gives a job its data store; a {} has none",
                    kind.noun()
                )
            });
            if !alone {
                return None;
            }
        } else if fields.get("datastore_record").is_none() && fields.get("datastore_tags").is_some()
        {
            self.w.error(
                &child(at, "datastore_tags"),
                "missing-key",
                "`datastore_tags` needs `datastore_record`: they are its tags",
            );
            return None;
        }
        let datastore = match fields.get("datastore_record") {
            Some(d) if kind.belongs_to_datastore() => {
                let mut store = self.test_datastore(d, &child(at, "datastore_record"))?;
                if let Some(t) = fields.get("datastore_tags") {
                    store.tags = Some(self.test_tags(t, &child(at, "datastore_tags"))?);
                }
                Some(store)
            }
            _ => None,
        };
        let mut rec = match kind {
            Kind::Datastore => self.test_datastore(r, &child(at, "record"))?,
            _ => self.test_resource(r, kind, datastore.as_ref(), &child(at, "record"))?,
        };
        if let Some(t) = fields.get("tags") {
            rec.tags = Some(self.test_tags(t, &child(at, "tags"))?);
        }
        let enrichments = fields.get("enrichments");
        if let Some(e) = enrichments {
            let Some(serde_json::Value::Object(m)) = yaml_to_json(e) else {
                self.w.error(
                    &child(at, "enrichments"),
                    "wrong-type",
                    "`enrichments` must be a mapping",
                );
                return None;
            };
            rec.enrichments = m.into_iter().collect();
        }
        if let Some(store) = &datastore {
            let mut pair = vec![store.clone(), rec];
            hlaudit_model::link::link_to_datastores(&mut pair);
            rec = pair.pop()?;
        }
        Some(TestInput::Record {
            record: Box::new(rec),
            datastore: datastore.map(Box::new),
        })
    }

    /// A test's job or transformation profile: a job's `JobId` defaults to `test-job` and
    /// its `DatastoreId` to its data store's (or `test`); a profile's `ProfileId` to
    /// `test-profile`, in the account and region of the test data store's ARN.
    fn test_resource(
        &mut self,
        r: &Value,
        kind: Kind,
        datastore: Option<&Record>,
        at: &[Seg],
    ) -> Option<Record> {
        let Some(serde_json::Value::Object(mut obj)) = yaml_to_json(r) else {
            self.w.error(
                at,
                "wrong-type",
                format!(
                    "`record` must be a {} mapping, found {}",
                    kind.api_shape(),
                    crate::walk::kind(r)
                ),
            );
            return None;
        };
        if kind.belongs_to_datastore() {
            obj.entry("JobId").or_insert_with(|| TEST_JOB_ID.into());
            let store_id = datastore.and_then(Record::id).unwrap_or(TEST_ID);
            obj.entry("DatastoreId").or_insert_with(|| store_id.into());
        } else {
            obj.entry("ProfileId")
                .or_insert_with(|| TEST_PROFILE_ID.into());
        }
        match Record::from_value_as(kind, &serde_json::Value::Object(obj)) {
            Ok(rec) if kind == Kind::TransformationProfile => {
                Some(rec.with_context(hlaudit_model::Context {
                    account: Some(TEST_ACCOUNT.to_owned()),
                    region: Some(TEST_REGION.to_owned()),
                    partition: Some("aws".to_owned()),
                }))
            }
            Ok(rec) => Some(rec),
            Err(e) => {
                self.w.error(
                    at,
                    "bad-value",
                    format!("`record` is not a valid {}: {e}", kind.noun()),
                );
                None
            }
        }
    }

    /// The data store a test's `record` describes.
    fn test_datastore(&mut self, r: &Value, at: &[Seg]) -> Option<Record> {
        let Some(serde_json::Value::Object(mut obj)) = yaml_to_json(r) else {
            self.w.error(
                at,
                "wrong-type",
                format!(
                    "`record` must be a DatastoreProperties mapping, found {}",
                    crate::walk::kind(r)
                ),
            );
            return None;
        };
        obj.entry("DatastoreId").or_insert_with(|| TEST_ID.into());
        obj.entry("DatastoreArn").or_insert_with(|| TEST_ARN.into());
        match Record::from_value(&serde_json::Value::Object(obj)) {
            Ok(rec) => Some(rec),
            Err(e) => {
                self.w.error(
                    at,
                    "bad-value",
                    format!("`record` is not a valid data store: {e}"),
                );
                None
            }
        }
    }

    /// A test record's `tags`: a mapping of strings.
    fn test_tags(&mut self, t: &Value, at: &[Seg]) -> Option<BTreeMap<String, String>> {
        let Value::Mapping(m) = t else {
            self.w.error(
                at,
                "wrong-type",
                format!("`tags` must be a mapping of strings, found {}", kind(t)),
            );
            return None;
        };
        let mut map = BTreeMap::new();
        for (k, v) in m {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                self.w
                    .error(at, "wrong-type", "tag keys and values must be strings");
                return None;
            };
            map.insert(k.to_owned(), v.to_owned());
        }
        Some(map)
    }

    /// The policy's conditions compiled again with a test's `params`.
    fn test_variant(
        &mut self,
        pv: &Value,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
        test_at: &[Seg],
    ) -> Option<Conditions> {
        let merged = self.test_params(pv, at, params)?;
        // The policy's conditions, compiled again with the test's values; problems in
        // them are already reported by the policy itself, so they are not repeated.
        let policy_at = &test_at[..test_at.len().saturating_sub(2)];
        let saved = self.w.pending.len();
        let policy = self.policy_value(policy_at)?;
        let conditions = self.conditions(
            policy.get("applies_when"),
            policy.get("assert"),
            policy_at,
            &merged,
        );
        self.w.pending.truncate(saved);
        conditions
    }

    /// The policy's parameters with a test's `params` in place of their values.
    fn test_params(
        &mut self,
        pv: &Value,
        at: &[Seg],
        params: &BTreeMap<String, Parameter>,
    ) -> Option<BTreeMap<String, Parameter>> {
        let Value::Mapping(m) = pv else {
            self.w.error(
                at,
                "wrong-type",
                "`params` must be a mapping of parameter values",
            );
            return None;
        };
        let mut merged = params.clone();
        for (k, v) in m {
            let name = k.as_str().unwrap_or("");
            let at_k = child(at, name);
            let Some(p) = merged.get_mut(name) else {
                let names: Vec<&str> = params.keys().map(String::as_str).collect();
                let hint = did_you_mean(name, &names).map(|s| format!("did you mean `{s}`?"));
                self.w.key_error(
                    &at_k,
                    "unknown-parameter",
                    format!("unknown parameter `{name}`"),
                    hint,
                );
                return None;
            };
            let val = yaml_to_val(v)?;
            if let Err(e) = p.ty.check(&val) {
                self.w
                    .error(&at_k, "wrong-type", format!("`{name}` ({}): {e}", p.ty));
                return None;
            }
            p.value = yaml_to_json(v)?;
            p.val = val;
        }
        Some(merged)
    }

    /// The policy mapping at `policy_at` (re-read for test variants).
    fn policy_value(&mut self, policy_at: &[Seg]) -> Option<Value> {
        let doc: Value = serde_yaml_ng::from_str(&self.w.text).ok()?;
        let mut v = &doc;
        for s in policy_at {
            v = match s {
                Seg::Key(k) => v.get(k.as_str())?,
                Seg::Index(i) => v.get(*i)?,
            };
        }
        Some(v.clone())
    }
}

/// The entries of a mapping with string keys, as [`FileWalk::keys`] returns them.
struct Fields<'v>(Vec<(&'v str, &'v Value)>);

impl<'v> Fields<'v> {
    /// The value of a key, when present.
    fn get(&self, key: &str) -> Option<&'v Value> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn compile_policy(kinds_line: &str) -> crate::CompiledPolicySet {
        let text = format!(
            "policies:\n  - id: K-1\n    title: t\n    severity: low\n    description: d\n{kinds_line}    assert: true\n"
        );
        let src = crate::PolicySource::from_text("k.yaml", text);
        match crate::compile(&[src], &Overrides::none()) {
            Ok(set) => set,
            Err(d) => panic!("{}", d.render(false)),
        }
    }

    #[test]
    fn a_policy_reports_the_kinds_it_names_in_a_stable_order() {
        let set = compile_policy("    kinds: [export-job, datastore]\n");
        let p = set.get(0).unwrap();
        assert_eq!(p.kinds(), [Kind::Datastore, Kind::ExportJob]);
        assert!(p.applies_to(Kind::ExportJob));
        assert!(p.applies_to(Kind::Datastore));
        assert!(!p.applies_to(Kind::ImportJob));
    }

    #[test]
    fn a_policy_without_kinds_applies_to_data_stores_only() {
        let set = compile_policy("");
        let p = set.get(0).unwrap();
        assert_eq!(p.kinds(), [Kind::Datastore]);
        assert!(Kind::ALL
            .into_iter()
            .all(|k| p.applies_to(k) == k.is_default()));
    }

    #[test]
    fn ids_follow_the_documented_syntax() {
        assert!(valid_id("HL-ENC-01"));
        assert!(valid_id("acme.enc_1"));
        assert!(!valid_id("1-A"));
        assert!(!valid_id("A B"));
        assert!(!valid_id(""));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod job_tests {
    use super::*;

    const POLICY: &str = r#"policies:
  - id: J-1
    title: t
    severity: low
    description: d
    kinds: [export-job, import-job]
    assert:
      all:
        - {path: "@datastore.DatastoreName", equals: clinical-prod}
        - {path: "@tags.owner", exists: true}
        - {path: "@account", equals: "123456789012"}
    tests:
"#;

    fn compile_tests(tests: &str) -> Result<crate::CompiledPolicySet, String> {
        let src = crate::PolicySource::from_text("j.yaml", format!("{POLICY}{tests}"));
        crate::compile(&[src], &Overrides::none()).map_err(|d| d.render(false))
    }

    #[test]
    fn a_job_test_gives_the_job_its_data_store_or_leaves_it_missing() {
        let set = compile_tests(
            r#"      - name: linked
        record: {}
        datastore_record: {DatastoreName: clinical-prod}
        datastore_tags: {owner: x}
        expect: PASS
      - name: an import job, linked
        kind: import-job
        record: {JobId: i1}
        datastore_record: {DatastoreId: other, DatastoreName: clinical-prod}
        datastore_tags: {owner: x}
        expect: PASS
      - name: its data store missing
        record: {}
        expect: FAIL
"#,
        )
        .unwrap();
        let report = crate::run_tests(&set, &|_| Ok(Vec::new()), None, default_test_time());
        assert!(report.all_passed(), "{:#?}", report.results);
        let TestInput::Record { record, .. } = &set.get(0).unwrap().tests[1].input else {
            panic!("a record test");
        };
        assert_eq!(record.kind(), Kind::ImportJob);
        assert_eq!(record.key(), "other/import-job/i1");
    }

    #[test]
    fn data_store_keys_of_a_test_need_a_job_and_its_data_store() {
        let e = compile_tests(
            r#"      - name: a kind the policy does not apply to
        kind: datastore
        record: {}
        expect: PASS
      - name: tags without the data store
        record: {}
        datastore_tags: {owner: x}
        expect: PASS
      - name: data store of a fixture
        fixture: x.json
        datastore_record: {}
        expect: PASS
"#,
        )
        .unwrap_err();
        assert!(
            e.contains("`datastore` is not a kind this policy applies to"),
            "{e}"
        );
        assert!(
            e.contains("`datastore_tags` needs `datastore_record`"),
            "{e}"
        );
        assert!(e.contains("`datastore_record` goes with `record`"), "{e}");
    }
}
