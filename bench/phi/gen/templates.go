package main

type template struct{ id, text string }

type templateSet struct{ headers, bodies, footers []template }

// Group 1: written before any detector code; never changed afterwards (seed 1 reproduces
// testdata/phi/notes-seed1.jsonl byte for byte).
var group1 = templateSet{
	headers: []template{
		{"h1", "PATIENT: {pt}\nDOB: {dob}\nMRN: {mrn}\nDate of service: {date}\n\n"},
		{"h2", "[Progress Note|PROGRESS NOTE|Clinic note] - {date}\nPt: {pt} | [MRN|Med Rec #|mrn] {mrn} | DOB {dob}\n"},
		{"h3", "Name: {pt}    Sex: [M|F]\nAddress: {addr}\nPhone: {phone}\n\n"},
		{"h4", "TELEPHONE ENCOUNTER {date}\nCaller: {pt} (self), call-back number {phone}\n"},
		{"h5", "Discharge Summary\nPatient name: {pt}\nAdmission date: {date}   Discharge date: {date}\nAttending: {dr}\n\n"},
		{"h6", "Referral letter\nDear {dr},\nI am writing regarding our mutual patient {pt} (DOB {dob}). "},
		{"h7", "{pt}, {age}, seen today {date} in {facility}. "},
	},
	bodies: []template{
		{"b01", "{pt_title} is a {age} [man|woman|patient] with a history of {eponym} who presents for follow-up."},
		{"b02", "[Patient|Pt|pt] reports [improved|worse|stable] symptoms since the last visit on {date}."},
		{"b03", "Vitals: {vitals}."},
		{"b04", "Current medications include {med} and {med}."},
		{"b05", "Labs from {date}: {lab}."},
		{"b06", "Assessment: {code}, well controlled on {med}."},
		{"b07", "{pt_title} lives at {addr} with [her|his] {rel}."},
		{"b08", "[Patient|She|He] can be reached at {phone} or by email at {email}."},
		{"b09", "Records were faxed to {fax} on {date}."},
		{"b10", "Please fax the prior authorization to [our office at |]{fax} (fax) and call {phone} with questions."},
		{"b11", "Social security number {ssn} was verified at registration."},
		{"b12", "SSN: {ssn}."},
		{"b13", "[Medical record number|MRN|MR#] {mrn} was merged with the duplicate chart."},
		{"b14", "Insurance: [Blue Cross|Aetna|UnitedHealthcare|Medicaid|Medicare] member ID {plan}, group {year}."},
		{"b15", "Health plan beneficiary number {plan} on file; copay collected."},
		{"b16", "Billing account {account} has an outstanding balance."},
		{"b17", "[Patient|Pt] paid by check; account number {account}."},
		{"b18", "[Driver's license|Drivers license|DL] {dl} ({state}) was scanned at check-in."},
		{"b19", "Prescribed by {dr}, DEA {dea}."},
		{"b20", "[Patient|He|She] was in a motor vehicle collision; vehicle VIN {vin}, license plate {plate}."},
		{"b21", "Pacemaker serial number {device} interrogated today, battery OK."},
		{"b22", "Insulin pump [serial|SN|serial no.] {device} replaced under warranty."},
		{"b23", "Patient portal link {url} was sent to the {rel}."},
		{"b24", "Telehealth session connected from IP address {ip} without issues."},
		{"b25", "Login from {ip} was flagged by the portal."},
		{"b26", "Identity confirmed by {bio} at the front desk."},
		{"b27", "A {photo} was added to the chart for identification."},
		{"b28", "Wound photos uploaded as {photo}."},
		{"b29", "{pt_title} is a {age90} [retired teacher|widow|veteran] living independently."},
		{"b30", "The patient, {age90}, was accompanied by [her|his] {rel}."},
		{"b31", "Enrolled in the [diabetes|heart failure|COPD] trial, {other}."},
		{"b32", "Workers comp claim noted, {other}."},
		{"b33", "Seen by {dr} in {facility}; discussed with {staff}."},
		{"b34", "[Spoke with|Called|Left voicemail for] {pt_first} and [her|his] {rel} at {phone}."},
		{"b35", "Moved from {city} to {city} in {year}; previously lived in {county}."},
		{"b36", "Transfer from {facility}, {city}, {state}, on {date}."},
		{"b37", "Follow up in 3 weeks, sooner if symptoms recur. No known drug allergies."},
		{"b38", "Denies chest pain, shortness of breath or syncope. Smoked 1 ppd for 20 years, quit in {year}."},
		{"b39", "Home health referral placed; mailing address {addr}."},
		{"b40", "Next appointment {date} at 10:30 with {dr}."},
		{"b41", "pt states her {rel} will drive her, contact # {phone}"},
		{"b42", "{pt} was born on {dob} in {city}."},
	},
	footers: []template{
		{"f1", "\nElectronically signed by {dr} on {date}."},
		{"f2", "\n-- {staff}"},
		{"f3", "\nDictated by {dr}, transcribed {date}."},
		{"f4", "\nPlease contact the office at {phone} or fax {fax} with questions."},
		{"f5", ""},
	},
}

var groups = map[int]templateSet{1: group1}
