-- +goose Up
-- A dictation's patient is a patient record (the two tables landed separately).
UPDATE dictation_sessions SET patient_id = NULL
WHERE patient_id IS NOT NULL AND patient_id NOT IN (SELECT id FROM patients);
ALTER TABLE dictation_sessions
    ADD CONSTRAINT dictation_sessions_patient_fk FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE dictation_sessions DROP CONSTRAINT dictation_sessions_patient_fk;
