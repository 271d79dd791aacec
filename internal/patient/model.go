package patient

import (
	"time"

	"github.com/google/uuid"
)

// Access is what a caller may do with a record.
type Access string

const (
	AccessOwner Access = "owner" // everything; the creator
	AccessAdmin Access = "admin" // everything; role admin or superadmin
	AccessWrite Access = "write" // read and change (a grant)
	AccessRead  Access = "read"  // read (a grant)
)

// Sexes a record may state.
var Sexes = []string{"female", "male", "other", "unknown"}

// Observation is a vital sign or a lab result. Value is text: "140/90", "positive" and "7.2"
// are all results.
type Observation struct {
	Name    string    `json:"name"`
	Value   string    `json:"value"`
	Unit    string    `json:"unit,omitempty"`
	TakenAt time.Time `json:"taken_at"`
}

// Record is a patient record as one caller sees it.
type Record struct {
	ID        uuid.UUID
	OwnerID   uuid.UUID
	Name      string
	BirthDate time.Time // a date (UTC midnight)
	Sex       string
	MRN       *string
	Problems  []string
	Meds      []string
	Allergies []string
	Vitals    []Observation
	Labs      []Observation
	Access    Access // the caller's
	Version   int32
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Summary is a list item: identifiers, no clinical content.
type Summary struct {
	ID        uuid.UUID
	OwnerID   uuid.UUID
	Name      string
	Access    Access
	Version   int32
	UpdatedAt time.Time
}

// Grant gives a user other than the owner read or write access.
type Grant struct {
	PatientID uuid.UUID
	UserID    uuid.UUID
	Access    Access // AccessRead or AccessWrite
	GrantedBy *uuid.UUID
	CreatedAt time.Time
}

// Input is a new record.
type Input struct {
	Name      string
	BirthDate time.Time
	Sex       string
	MRN       *string
	Problems  []string
	Meds      []string
	Allergies []string
	Vitals    []Observation
	Labs      []Observation
}

// Patch changes the fields that are set; a list set replaces the stored one. MRN set to ""
// removes it. Version is the version the change is based on.
type Patch struct {
	Version   int32
	Name      *string
	BirthDate *time.Time
	Sex       *string
	MRN       *string
	Problems  *[]string
	Meds      *[]string
	Allergies *[]string
	Vitals    *[]Observation
	Labs      *[]Observation
}
