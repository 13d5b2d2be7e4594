package resilience

import (
	"fmt"
	"slices"
	"strings"
)

// EntityType is the kind of critical DFS entity being assessed (the
// critical-entity matrix of the toolkit's formalisation).
type EntityType string

const (
	EntityMNO           EntityType = "mno"
	EntityDFSProvider   EntityType = "dfs_provider"
	EntityBank          EntityType = "bank"
	EntityPaymentSwitch EntityType = "payment_switch"
	EntityThirdParty    EntityType = "third_party"
	EntityAgentNetwork  EntityType = "agent_network"
)

// EntityTypes lists the entity types in display order.
func EntityTypes() []EntityType {
	return []EntityType{EntityMNO, EntityDFSProvider, EntityBank, EntityPaymentSwitch, EntityThirdParty, EntityAgentNetwork}
}

// Valid reports whether t is a known entity type.
func (t EntityType) Valid() bool { return slices.Contains(EntityTypes(), t) }

// Label is the English name shown in the UI.
func (t EntityType) Label() string {
	switch t {
	case EntityMNO:
		return "Mobile network operator"
	case EntityDFSProvider:
		return "DFS provider / e-money issuer"
	case EntityBank:
		return "Bank"
	case EntityPaymentSwitch:
		return "Payment switch"
	case EntityThirdParty:
		return "Third party / cloud provider"
	case EntityAgentNetwork:
		return "Agent super-dealer"
	}
	return string(t)
}

func entityTypeList() string {
	var s []string
	for _, t := range EntityTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

// RiskLevel is an entity's inherent-risk level.
type RiskLevel string

const (
	RiskLow      RiskLevel = "low"
	RiskModerate RiskLevel = "moderate"
	RiskHigh     RiskLevel = "high"
	RiskVeryHigh RiskLevel = "very_high"
)

// RiskLevels lists the levels from lowest to highest.
func RiskLevels() []RiskLevel { return []RiskLevel{RiskLow, RiskModerate, RiskHigh, RiskVeryHigh} }

// Valid reports whether r is a known level.
func (r RiskLevel) Valid() bool { return slices.Contains(RiskLevels(), r) }

// Label is the English name shown in the UI.
func (r RiskLevel) Label() string {
	switch r {
	case RiskLow:
		return "Low"
	case RiskModerate:
		return "Moderate"
	case RiskHigh:
		return "High"
	case RiskVeryHigh:
		return "Very high"
	}
	return string(r)
}

func riskLevelList() string {
	var s []string
	for _, r := range RiskLevels() {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// Channel is a channel through which the entity serves customers.
type Channel string

// Channels lists the channels a profile may name.
func Channels() []Channel {
	return []Channel{"app", "ussd", "stk", "sms", "agents", "open_api"}
}

// ChannelLabel is the English name of a channel.
func ChannelLabel(c Channel) string {
	return map[Channel]string{"app": "Mobile app", "ussd": "USSD", "stk": "SIM toolkit (STK)", "sms": "SMS",
		"agents": "Agents", "open_api": "Open APIs"}[c]
}

// Band is one of four size bands (0 smallest … 3 largest) of a profile
// factor; BandLabels names them per factor.
type Band int

// Profile is an entity's inherent-risk profile for one assessment.
type Profile struct {
	EntityType   EntityType `json:"entity_type"`
	Volume       Band       `json:"volume"`        // transactions per day
	Channels     []Channel  `json:"channels"`      // channels offered
	ThirdParties Band       `json:"third_parties"` // critical third parties
	Customers    Band       `json:"customers"`     // customer base
	Incidents    Band       `json:"incidents"`     // significant incidents in the last three years
}

// BandLabels names the bands of each banded factor, for forms and reports.
var bandLabels = map[string][4]string{
	"volume":        {"Under 1,000 a day", "1,000 – 100,000 a day", "100,000 – 1 million a day", "Over 1 million a day"},
	"third_parties": {"0 – 2", "3 – 10", "11 – 30", "Over 30"},
	"customers":     {"Under 10,000", "10,000 – 1 million", "1 – 10 million", "Over 10 million"},
	"incidents":     {"None", "1 – 2 minor", "3 or more, or one major", "Several major"},
}

// BandLabels returns the names of factor's four bands.
func BandLabels(factor string) [4]string { return bandLabels[factor] }

// Validate checks the profile's values.
func (p Profile) Validate() error {
	if !p.EntityType.Valid() {
		return fmt.Errorf("%w: unknown entity type %q", ErrInvalid, p.EntityType)
	}
	for name, b := range map[string]Band{"volume": p.Volume, "third parties": p.ThirdParties, "customers": p.Customers, "incidents": p.Incidents} {
		if b < 0 || b > 3 {
			return fmt.Errorf("%w: %s band %d is outside 0–3", ErrInvalid, name, b)
		}
	}
	seen := map[Channel]bool{}
	for _, c := range p.Channels {
		if !slices.Contains(Channels(), c) || seen[c] {
			return fmt.Errorf("%w: unknown or repeated channel %q", ErrInvalid, c)
		}
		seen[c] = true
	}
	return nil
}

// entityPoints is the share of inherent risk that comes with the kind of
// entity: a payment switch concentrates the sector's transactions, an MNO,
// provider or bank holds customers' money or identities, a third party or
// agent network reaches the money through others.
var entityPoints = map[EntityType]int{
	EntityPaymentSwitch: 3, EntityMNO: 2, EntityDFSProvider: 2, EntityBank: 2, EntityThirdParty: 1, EntityAgentNetwork: 1,
}

// RiskPoints is the profile's inherent-risk score, 0–18: entity type
// (1–3) + volume, third parties, customers and incidents bands (0–3 each)
// + channels (half the number of channels, rounded up: 0–3).
func (p Profile) RiskPoints() int {
	return entityPoints[p.EntityType] + int(p.Volume) + int(p.ThirdParties) + int(p.Customers) + int(p.Incidents) + (len(p.Channels)+1)/2
}

// RiskLevel is the inherent-risk level of the profile: low under 5 points,
// moderate 5–8, high 9–12, very high 13 and more.
func (p Profile) RiskLevel() RiskLevel {
	switch n := p.RiskPoints(); {
	case n >= 13:
		return RiskVeryHigh
	case n >= 9:
		return RiskHigh
	case n >= 5:
		return RiskModerate
	}
	return RiskLow
}
