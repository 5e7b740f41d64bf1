# Purpose gate for CPNI use, as evaluated by the Rego peer (regorus).
#
# input: {"purpose": str, "objection_active": bool, "opt_in_active": bool,
#         "opt_out_presumed": bool, "listing_published": bool,
#         "has_reference": bool, "offer_within_subscribed": bool}
# data.cpniguard.allow  -> bool (the rule the benchmark times)
# data.cpniguard.reason -> str  (why; for cross-checking only)
package cpniguard

statutory := {"provide-service", "billing", "fraud-protection", "emergency"}

marketing := {"marketing-subscribed", "marketing-communications", "marketing-third-party"}

default allow := false

allow if input.purpose in statutory

allow if {
	input.purpose == "legal-process"
	input.has_reference
}

allow if {
	input.purpose == "directory-publishing"
	input.listing_published
}

allow if {
	input.purpose == "marketing-subscribed"
	not input.objection_active
	input.offer_within_subscribed
}

allow if {
	input.purpose == "marketing-communications"
	not input.objection_active
	input.opt_in_active
}

allow if {
	input.purpose == "marketing-communications"
	not input.objection_active
	input.opt_out_presumed
}

allow if {
	input.purpose == "marketing-third-party"
	not input.objection_active
	input.opt_in_active
}

reason := "statutory" if {
	input.purpose in statutory
} else := "statutory" if {
	input.purpose == "legal-process"
	input.has_reference
} else := "legal process needs a reference" if {
	input.purpose == "legal-process"
} else := "published listing" if {
	input.purpose == "directory-publishing"
	input.listing_published
} else := "listing not published" if {
	input.purpose == "directory-publishing"
} else := "customer objected" if {
	input.purpose in marketing
	input.objection_active
} else := "total service approach" if {
	input.purpose == "marketing-subscribed"
	input.offer_within_subscribed
} else := "offer outside subscribed categories" if {
	input.purpose == "marketing-subscribed"
} else := "opt-in" if {
	input.purpose in {"marketing-communications", "marketing-third-party"}
	input.opt_in_active
} else := "opt-out approval" if {
	input.purpose == "marketing-communications"
	input.opt_out_presumed
} else := "no approval on record" if {
	input.purpose == "marketing-communications"
} else := "opt-in required" if {
	input.purpose == "marketing-third-party"
} else := "unknown purpose"

decision := {"allowed": allow, "reason": reason}
