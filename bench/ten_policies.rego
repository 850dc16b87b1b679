# The ten simple policies of bench/ten-policies.yaml in Rego (v1), for bench/compare-engines.sh,
# which evaluates `data.hlaudit.ten.violations` with regorus over a `list-fhir-datastores`
# output and checks that it holds the same [policy, data store ARN] pairs as hlaudit's FAIL
# findings and bench/ten_policies.py's lines.
#
# Fail closed as hlaudit does: every check is written as "the good case holds", and a
# violation is its negation, so an absent field (undefined in Rego) is a violation. Types are
# checked before comparing, since Rego orders values of different types (a string "30" is
# >= 7 in Rego) where hlaudit's operators are false on the wrong type.
#
# What Rego cannot say the same way: `json.unmarshal` keeps the last of two equal names in an
# object, where hlaudit (and the Python script) treat metadata that repeats a name as not JSON.
package hlaudit.ten

stores := input.DatastorePropertiesList

live(ds) if not ds.DatastoreStatus in {"DELETED", "DELETING"}

cmk(ds) if ds.SseConfiguration.KmsEncryptionConfig.CmkType == "CUSTOMER_MANAGED_KMS_KEY"

smart(ds) if ds.IdentityProviderConfiguration.AuthorizationStrategy in {"SMART_ON_FHIR_V1", "SMART_ON_FHIR"}

# The SMART metadata document, parsed once per data store; null when it is absent, not a
# string or not JSON, so every check reading it fails.
metadata(ds) := md if {
	s := ds.IdentityProviderConfiguration.Metadata
	is_string(s)
	json.is_valid(s)
	md := json.unmarshal(s)
} else := null

smart_live := [[ds.DatastoreArn, ds, metadata(ds)] |
	some ds in stores
	live(ds)
	smart(ds)
]

key_arn(ds) if {
	k := ds.SseConfiguration.KmsEncryptionConfig.KmsKeyId
	is_string(k)
	regex.match(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`, k)
}

pkce(md) if {
	m := md.code_challenge_methods_supported
	is_array(m)
	"S256" in m
	not "plain" in m
}

https(md) if {
	a := md.authorization_endpoint
	is_string(a)
	startswith(a, "https://")
	t := md.token_endpoint
	is_string(t)
	startswith(t, "https://")
}

grants(md) if {
	g := md.grant_types_supported
	is_array(g)
	every x in g {
		x in {"authorization_code", "client_credentials"}
	}
}

fine_grained(ds) if ds.IdentityProviderConfiguration.FineGrainedAuthorizationEnabled == true

# ErrorCause absent, or present and empty (null, "", [] or {}).
no_error(ds) if not "ErrorCause" in object.keys(ds)

no_error(ds) if ds.ErrorCause in {null, "", [], {}}

# A status that is present (null included) and not a failed one.
healthy(ds) if {
	s := ds.DatastoreStatus
	not s in {"CREATE_FAILED", "UPDATE_FAILED"}
	no_error(ds)
}

backups(ds) if {
	c := ds.BackupStatusInfo.Configuration
	c.Status == "ENABLED"
	r := c.RetentionPeriodInDays
	is_number(r)
	r >= 7
}

# An ARN as hlaudit reads one: "arn:", then partition, service, region and account, then the
# resource (which may hold more colons); partition and service not empty.
arn_region(s) := parts[3] if {
	parts := split(s, ":")
	parts[0] == "arn"
	count(parts) >= 6
	parts[1] != ""
	parts[2] != ""
}

named_by_arn(ds) := k if {
	k := ds.SseConfiguration.KmsEncryptionConfig.KmsKeyId
	is_string(k)
	startswith(k, "arn:")
}

key_in_region(ds, k) if arn_region(k) == arn_region(ds.DatastoreArn)

violations contains ["TEN-01", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	not cmk(ds)
}

violations contains ["TEN-02", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	cmk(ds)
	not key_arn(ds)
}

violations contains ["TEN-03", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	not smart(ds)
}

violations contains ["TEN-04", arn] if {
	some [arn, _, md] in smart_live
	not pkce(md)
}

violations contains ["TEN-05", arn] if {
	some [arn, _, md] in smart_live
	not https(md)
}

violations contains ["TEN-06", arn] if {
	some [arn, _, md] in smart_live
	not grants(md)
}

violations contains ["TEN-07", arn] if {
	some [arn, ds, _] in smart_live
	not fine_grained(ds)
}

violations contains ["TEN-08", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	not healthy(ds)
}

violations contains ["TEN-09", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	not backups(ds)
}

violations contains ["TEN-10", ds.DatastoreArn] if {
	some ds in stores
	live(ds)
	cmk(ds)
	k := named_by_arn(ds)
	not key_in_region(ds, k)
}
