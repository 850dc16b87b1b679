//! Property tests of the engine's laws: double negation, De Morgan, independence from the
//! thread count and the record order, exactly one status per pair, agreement of the
//! fast path with the evidence path, and a job seeing its data store as the data store
//! sees itself.

use hlaudit_model::finding::Subject;
use hlaudit_model::{Finding, Inventory, Kind, Record, Status, Timestamp};
use hlaudit_rules::{
    compile, evaluate, explain, CompiledPolicySet, EvalOptions, Overrides, PolicySource,
};
use proptest::prelude::*;

const ATOMS: &[&str] = &[
    "{path: DatastoreStatus, equals: ACTIVE}",
    "{path: DatastoreName, starts_with: prod}",
    "{path: IdentityProviderConfiguration.FineGrainedAuthorizationEnabled, is: true}",
    "{path: IdentityProviderConfiguration.Metadata|json.capabilities, any: {path: ., starts_with: launch-}}",
    "{path: IdentityProviderConfiguration.Metadata|json.grant_types_supported, all: {path: ., in: [authorization_code]}}",
    "{path: '@tags.Env', in: [prod, dev]}",
    "{path: BackupStatusInfo.Configuration.RetentionPeriodInDays, ge: 7}",
    "{path: Missing.Field, absent: true}",
    "{path: ErrorCause.ErrorMessage, empty: false}",
    "{path: DatastoreName, not_equals: {path: DatastoreId}}",
    "{path: CreatedAt, older_than: 30d}",
    "{path: IdentityProviderConfiguration.Metadata|json.capabilities, count: {ge: 2}, where: {path: ., matches: '^launch'}}",
];

#[derive(Debug, Clone)]
enum C {
    Atom(usize),
    All(Vec<C>),
    Any(Vec<C>),
    Not(Box<C>),
}

impl C {
    fn yaml(&self) -> String {
        match self {
            C::Atom(i) => ATOMS[*i].to_owned(),
            C::All(cs) => format!(
                "{{all: [{}]}}",
                cs.iter().map(C::yaml).collect::<Vec<_>>().join(", ")
            ),
            C::Any(cs) => format!(
                "{{any: [{}]}}",
                cs.iter().map(C::yaml).collect::<Vec<_>>().join(", ")
            ),
            C::Not(c) => format!("{{not: {}}}", c.yaml()),
        }
    }
}

fn cond() -> impl Strategy<Value = C> {
    let leaf = (0..ATOMS.len()).prop_map(C::Atom);
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(C::All),
            prop::collection::vec(inner.clone(), 1..3).prop_map(C::Any),
            inner.prop_map(|c| C::Not(Box::new(c))),
        ]
    })
}

fn record() -> impl Strategy<Value = Record> {
    (
        0..3usize,
        prop::option::of("(prod|dev)-[a-z]{1,3}"),
        prop::option::of(any::<bool>()),
        0..4usize,
        prop::option::of(prop::sample::select(vec!["prod", "dev", "test"])),
        prop::option::of(0..20i64),
        any::<u16>(),
    )
        .prop_map(|(status, name, fga, md, env, retention, id)| {
            let mut v = serde_json::json!({
                "DatastoreId": format!("id{id}"),
                "DatastoreArn": format!("arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/id{id}"),
                "CreatedAt": 1_700_000_000 + i64::from(id) * 1000,
            });
            let o = v.as_object_mut().unwrap();
            if status > 0 {
                o.insert("DatastoreStatus".into(), if status == 1 { "ACTIVE" } else { "CREATING" }.into());
            }
            if let Some(n) = name {
                o.insert("DatastoreName".into(), n.into());
            }
            let mut idp = serde_json::Map::new();
            if let Some(f) = fga {
                idp.insert("FineGrainedAuthorizationEnabled".into(), f.into());
            }
            match md {
                1 => {
                    idp.insert("Metadata".into(), r#"{"capabilities":["launch-ehr","launch-standalone"],"grant_types_supported":["authorization_code"]}"#.into());
                }
                2 => {
                    idp.insert("Metadata".into(), "not json".into());
                }
                3 => {
                    idp.insert("Metadata".into(), r#"{"capabilities":[],"grant_types_supported":["client_credentials"]}"#.into());
                }
                _ => {}
            }
            o.insert("IdentityProviderConfiguration".into(), idp.into());
            // A null on the way of a path is absent, not a wrong type.
            if id % 3 == 0 {
                o.insert("ErrorCause".into(), serde_json::Value::Null);
            }
            if let Some(r) = retention {
                o.insert("BackupStatusInfo".into(), serde_json::json!({"Configuration": {"RetentionPeriodInDays": r}}));
            }
            let mut rec = Record::from_value(&v).unwrap();
            if let Some(e) = env {
                rec.tags = Some([("Env".to_owned(), e.to_owned())].into_iter().collect());
            }
            rec
        })
}

fn unique(mut recs: Vec<Record>) -> Vec<Record> {
    let mut seen = std::collections::HashSet::new();
    recs.retain(|r| seen.insert(r.key().into_owned()));
    recs
}

fn set(asserts: &[String]) -> CompiledPolicySet {
    let mut text = String::from("policies:\n");
    for (i, a) in asserts.iter().enumerate() {
        text.push_str(&format!(
            "  - id: P-{i:02}\n    title: t\n    severity: low\n    description: d\n    assert: {a}\n"
        ));
    }
    compile(
        &[PolicySource::from_text("laws.yaml", text)],
        &Overrides::none(),
    )
    .unwrap_or_else(|d| panic!("{}", d.render(false)))
}

fn statuses(
    set: &CompiledPolicySet,
    inv: &Inventory,
) -> Vec<(usize, usize, hlaudit_model::Status)> {
    evaluate(
        set,
        inv,
        EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()),
    )
    .into_iter()
    .map(|f| match f.subject() {
        Subject::Record { index } => (f.policy_index(), index, f.status),
        Subject::Scope(_) => unreachable!(),
    })
    .collect()
}

fn by_policy(set: &CompiledPolicySet, inv: &Inventory, p: usize) -> Vec<hlaudit_model::Status> {
    let mut v: Vec<_> = statuses(set, inv)
        .into_iter()
        .filter(|x| x.0 == p)
        .collect();
    v.sort_by_key(|x| x.1);
    v.into_iter().map(|x| x.2).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn double_negation_is_identity(c in cond(), recs in prop::collection::vec(record(), 1..6).prop_map(unique)) {
        let s = set(&[c.yaml(), format!("{{not: {{not: {}}}}}", c.yaml())]);
        let inv = Inventory { records: recs, ..Inventory::default() };
        prop_assert_eq!(by_policy(&s, &inv, 0), by_policy(&s, &inv, 1));
    }

    #[test]
    fn de_morgan_holds(a in cond(), b in cond(), recs in prop::collection::vec(record(), 1..6).prop_map(unique)) {
        let (a, b) = (a.yaml(), b.yaml());
        let s = set(&[
            format!("{{not: {{all: [{a}, {b}]}}}}"),
            format!("{{any: [{{not: {a}}}, {{not: {b}}}]}}"),
            format!("{{not: {{any: [{a}, {b}]}}}}"),
            format!("{{all: [{{not: {a}}}, {{not: {b}}}]}}"),
        ]);
        let inv = Inventory { records: recs, ..Inventory::default() };
        prop_assert_eq!(by_policy(&s, &inv, 0), by_policy(&s, &inv, 1));
        prop_assert_eq!(by_policy(&s, &inv, 2), by_policy(&s, &inv, 3));
    }

    #[test]
    fn every_pair_gets_one_status_whatever_the_threads_and_order(
        cs in prop::collection::vec(cond(), 1..5),
        recs in prop::collection::vec(record(), 0..12).prop_map(unique),
        seed in any::<u64>(),
    ) {
        let s = set(&cs.iter().map(C::yaml).collect::<Vec<_>>());
        let inv = Inventory { records: recs.clone(), ..Inventory::default() };
        let at = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
            pool.install(|| evaluate(&s, &inv, EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap())))
        };
        let one: Vec<Finding> = at(1);
        let four: Vec<Finding> = at(4);
        prop_assert_eq!(&one, &four);
        // exactly one finding per (policy, record) pair
        let mut pairs: Vec<(usize, Subject)> = one.iter().map(|f| (f.policy_index(), f.subject())).collect();
        pairs.sort();
        pairs.dedup();
        prop_assert_eq!(pairs.len(), s.len() * recs.len());
        prop_assert_eq!(one.len(), s.len() * recs.len());
        // the record order does not change any outcome (keyed by ARN)
        let mut shuffled = recs.clone();
        let k = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % k);
        shuffled.reverse();
        let inv2 = Inventory { records: shuffled.clone(), ..Inventory::default() };
        let key = |inv: &Inventory, fs: Vec<Finding>| {
            let mut v: Vec<_> = fs.into_iter().map(|f| match f.subject() {
                Subject::Record { index } => (f.policy_index(), inv.records[index].key().into_owned(), f.status, f.evidence().to_vec()),
                Subject::Scope(_) => unreachable!(),
            }).collect();
            v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            v
        };
        let again = evaluate(&s, &inv2, EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()));
        prop_assert_eq!(key(&inv, one), key(&inv2, again));
    }

    #[test]
    fn the_fast_path_and_the_evidence_path_agree(
        c in cond(),
        recs in prop::collection::vec(record(), 1..6).prop_map(unique),
    ) {
        // The engine decides with the fast path (memoised clauses, paths resolved by
        // reference); `explain` walks the same conditions in evidence mode.
        let s = set(&[c.yaml()]);
        let opts = EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
        for r in &recs {
            let inv = Inventory { records: vec![r.clone()], ..Inventory::default() };
            let status = evaluate(&s, &inv, opts)[0].status;
            let x = explain(&s, 0, r, None, opts).unwrap();
            prop_assert_eq!(x.status, status);
            let assert_holds = x.assert.as_ref().unwrap().outcome;
            prop_assert_eq!(assert_holds, status == hlaudit_model::Status::Pass, "{}", x);
        }
    }

    #[test]
    fn a_job_sees_its_data_store_as_the_data_store_sees_itself(
        recs in prop::collection::vec(record(), 1..6).prop_map(unique),
        orphans in 0..3usize,
        link in any::<bool>(),
    ) {
        // The same checks, on a data store and (through @datastore, @tags, @account) on
        // its export job.
        const CHECKS: [(&str, &str); 4] = [
            ("{path: DatastoreName, starts_with: prod}", "{path: '@datastore.DatastoreName', starts_with: prod}"),
            ("{path: IdentityProviderConfiguration.FineGrainedAuthorizationEnabled, is: true}",
             "{path: '@datastore.IdentityProviderConfiguration.FineGrainedAuthorizationEnabled', is: true}"),
            ("{path: '@tags.Env', in: [prod, dev]}", "{path: '@tags.Env', in: [prod, dev]}"),
            ("{path: '@account', equals: '123456789012'}", "{path: '@account', equals: '123456789012'}"),
        ];
        let mut text = String::from("policies:\n");
        for (i, (store, job)) in CHECKS.iter().enumerate() {
            text.push_str(&format!(
                "  - id: D-{i}\n    title: t\n    severity: low\n    description: d\n    assert: {store}\n\
                 \x20 - id: J-{i}\n    title: t\n    severity: low\n    description: d\n    kinds: [export-job]\n    assert: {job}\n"
            ));
        }
        let s = compile(&[PolicySource::from_text("jobs.yaml", text)], &Overrides::none())
            .unwrap_or_else(|d| panic!("{}", d.render(false)));
        let job = |store: &str, n: usize| {
            Record::from_value_as(
                Kind::ExportJob,
                &serde_json::json!({"JobId": format!("j{n}"), "DatastoreId": store}),
            )
            .unwrap()
        };
        let mut records = recs.clone();
        for (n, r) in recs.iter().enumerate() {
            records.push(job(r.id().unwrap(), n));
        }
        for n in 0..orphans {
            records.push(job("not-in-the-inventory", 100 + n));
        }
        let mut inv = Inventory { records, ..Inventory::default() };
        if link {
            // Linking first (as readers do) changes nothing the engine decides.
            hlaudit_model::link::link_to_datastores(&mut inv.records);
        }
        let findings = evaluate(&s, &inv, EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()));
        let status = |id: &str, index: usize| {
            let p = s.index_of(id).unwrap();
            findings
                .iter()
                .find(|f| f.policy_index() == p && f.subject() == Subject::Record { index })
                .map(|f| f.status)
        };
        for i in 0..CHECKS.len() {
            for (n, _) in recs.iter().enumerate() {
                let of_job = recs.len() + n;
                prop_assert_eq!(status(&format!("J-{i}"), of_job), status(&format!("D-{i}"), n));
                // A policy of one kind makes no finding on the other.
                prop_assert_eq!(status(&format!("D-{i}"), of_job), None);
                prop_assert_eq!(status(&format!("J-{i}"), n), None);
            }
            for n in 0..orphans {
                prop_assert_eq!(status(&format!("J-{i}"), 2 * recs.len() + n), Some(Status::Fail));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Over more records than one of the engine's jobs takes (256), findings made from
    /// its outcomes (a byte per PASS or SKIP pair, a list per job and policy for the
    /// rest) are each in their place: sorted by policy, then ARN, and each the finding
    /// its record gets when it is evaluated alone.
    #[test]
    fn over_many_jobs_each_finding_is_its_records_own(
        cs in prop::collection::vec(cond(), 1..5),
        recs in prop::collection::vec(record(), 600..900).prop_map(unique),
    ) {
        // The first policy fails about two records in three, in every job.
        let mut asserts = vec![C::Atom(0).yaml()];
        asserts.extend(cs.iter().map(C::yaml));
        let s = set(&asserts);
        let opts = EvalOptions::at(Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
        let inv = Inventory { records: recs.clone(), ..Inventory::default() };
        let all = evaluate(&s, &inv, opts);
        prop_assert_eq!(all.len(), s.len() * recs.len());
        let place = |f: &Finding| (f.policy_index(), recs[f.record_index().unwrap()].key().into_owned());
        for w in all.windows(2) {
            prop_assert!(place(&w[0]) < place(&w[1]));
        }
        let alone: Vec<Vec<Finding>> = recs
            .iter()
            .map(|r| evaluate(&s, &Inventory { records: vec![r.clone()], ..Inventory::default() }, opts))
            .collect();
        for f in &all {
            let own = &alone[f.record_index().unwrap()][f.policy_index()];
            prop_assert_eq!(f.status, own.status);
            prop_assert_eq!(f.message(), own.message());
            prop_assert_eq!(f.evidence(), own.evidence());
        }
    }
}
