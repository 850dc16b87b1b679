//! The defaults of the `AWS::HealthLake::FHIRDatastore` resource (and of the awscc
//! provider's `awscc_healthlake_fhir_datastore`, which follows the same schema): what a data
//! store gets for a property its template or plan leaves out.

use hlaudit_model::planned::PlanDetail;
use serde_json::{Map, Value as Json};

/// Fills in the schema default of every property `props` leaves out, listing each in
/// `detail.defaults`: no `SseConfiguration` is an AWS owned key, no
/// `IdentityProviderConfiguration` is `AWS_AUTH` without fine-grained authorization, and no
/// `FineGrainedAuthorizationEnabled` is `false`. A property whose value is known only
/// after deploy is not defaulted (it is there, just unknown).
pub(crate) fn fill(props: &mut Map<String, Json>, detail: &mut PlanDetail) {
    let sse = "/SseConfiguration";
    if !props.contains_key("SseConfiguration") && detail.unknown_at(sse).is_none() {
        props.insert(
            "SseConfiguration".into(),
            serde_json::json!({"KmsEncryptionConfig": {"CmkType": "AWS_OWNED_KMS_KEY"}}),
        );
        detail.defaults.push(sse.into());
    }
    let idp = "/IdentityProviderConfiguration";
    let fgae = "/IdentityProviderConfiguration/FineGrainedAuthorizationEnabled";
    match props.get_mut("IdentityProviderConfiguration") {
        None if detail.unknown_at(idp).is_none() => {
            props.insert(
                "IdentityProviderConfiguration".into(),
                serde_json::json!({"AuthorizationStrategy": "AWS_AUTH", "FineGrainedAuthorizationEnabled": false}),
            );
            detail.defaults.push(idp.into());
        }
        Some(Json::Object(o))
            if !o.contains_key("FineGrainedAuthorizationEnabled")
                && !detail.unknowns.iter().any(|u| u.pointer == fgae) =>
        {
            o.insert("FineGrainedAuthorizationEnabled".into(), Json::Bool(false));
            detail.defaults.push(fgae.into());
        }
        _ => {}
    }
}
