-- name: InsertPatient :one
INSERT INTO patients (owner_id, name, birth_date, sex, mrn, problems, medications, allergies, vitals, labs)
VALUES (sqlc.arg(owner_id), sqlc.arg(name), sqlc.arg(birth_date), sqlc.arg(sex), sqlc.narg(mrn),
        sqlc.arg(problems), sqlc.arg(medications), sqlc.arg(allergies), sqlc.arg(vitals), sqlc.arg(labs))
RETURNING *;

-- name: GetPatientFor :one
-- The patient with the grant of user on it, if any (grant_access is NULL without one).
SELECT sqlc.embed(p), g.access AS grant_access
FROM patients p
LEFT JOIN patient_grants g ON g.patient_id = p.id AND g.user_id = sqlc.arg(user_id)
WHERE p.id = sqlc.arg(id);

-- name: LockPatientFor :one
SELECT sqlc.embed(p), g.access AS grant_access
FROM patients p
LEFT JOIN patient_grants g ON g.patient_id = p.id AND g.user_id = sqlc.arg(user_id)
WHERE p.id = sqlc.arg(id)
FOR UPDATE OF p;

-- name: UpdatePatient :one
UPDATE patients
SET name = sqlc.arg(name), birth_date = sqlc.arg(birth_date), sex = sqlc.arg(sex), mrn = sqlc.narg(mrn),
    problems = sqlc.arg(problems), medications = sqlc.arg(medications), allergies = sqlc.arg(allergies),
    vitals = sqlc.arg(vitals), labs = sqlc.arg(labs), version = version + 1, updated_at = now()
WHERE id = sqlc.arg(id)
RETURNING *;

-- name: DeletePatient :exec
DELETE FROM patients WHERE id = $1;

-- name: ListPatientsFor :many
-- The patients user owns or holds a grant on, most recently updated first.
SELECT p.id, p.owner_id, p.name, p.version, p.updated_at, g.access AS grant_access
FROM patients p
LEFT JOIN patient_grants g ON g.patient_id = p.id AND g.user_id = sqlc.arg(user_id)
WHERE (p.owner_id = sqlc.arg(user_id) OR g.user_id IS NOT NULL)
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (p.updated_at, p.id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY p.updated_at DESC, p.id DESC
LIMIT sqlc.arg(lim);

-- name: UpsertPatientGrant :one
INSERT INTO patient_grants (patient_id, user_id, access, granted_by)
VALUES (sqlc.arg(patient_id), sqlc.arg(user_id), sqlc.arg(access), sqlc.arg(granted_by))
ON CONFLICT (patient_id, user_id) DO UPDATE SET access = EXCLUDED.access, granted_by = EXCLUDED.granted_by
RETURNING *;

-- name: GetPatientGrant :one
SELECT * FROM patient_grants WHERE patient_id = $1 AND user_id = $2;

-- name: DeletePatientGrant :execrows
DELETE FROM patient_grants WHERE patient_id = $1 AND user_id = $2;

-- name: CountPatientGrants :one
SELECT count(*) FROM patient_grants WHERE patient_id = $1;

-- name: ListPatientGrants :many
SELECT * FROM patient_grants
WHERE patient_id = sqlc.arg(patient_id)
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (created_at, user_id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY created_at DESC, user_id DESC
LIMIT sqlc.arg(lim);
