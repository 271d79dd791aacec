-- +goose Up
-- A minimal patient record for grounding answers and dictation. The lists are JSON arrays
-- (strings for problems, medications and allergies; {name, value, unit, taken_at} objects for
-- vitals and labs), validated and bounded by internal/patient before they are written.
CREATE TABLE patients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    birth_date  date NOT NULL,
    sex         text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    mrn         text,
    problems    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(problems) = 'array'),
    medications jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(medications) = 'array'),
    allergies   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(allergies) = 'array'),
    vitals      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(vitals) = 'array'),
    labs        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(labs) = 'array'),
    -- optimistic concurrency: a PATCH names the version it read
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_owner ON patients (owner_id, updated_at DESC, id DESC);

-- Access for users other than the owner; write implies read.
CREATE TABLE patient_grants (
    patient_id uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access     text NOT NULL CHECK (access IN ('read', 'write')),
    granted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, user_id)
);
CREATE INDEX patient_grants_user ON patient_grants (user_id);

-- +goose Down
DROP TABLE patient_grants;
DROP TABLE patients;
