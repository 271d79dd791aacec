-- +goose Up
-- A dictation in progress or finished: the note's sections as they stand, the bounded undo
-- history, and a version that every change increments (appends name the version they saw).
CREATE TABLE dictation_sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note_type           text NOT NULL CHECK (note_type IN ('soap', 'hp', 'progress', 'procedure')),
    abbreviation_policy text NOT NULL DEFAULT 'clinical' CHECK (abbreviation_policy IN ('clinical', 'expanded')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'finalized')),
    current_section     text NOT NULL,
    -- {"<section id>": "text", ...}
    sections            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(sections) = 'object'),
    -- undo steps, oldest first, bounded by the service
    history             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(history) = 'array'),
    version             integer NOT NULL DEFAULT 1,
    conversation_id     uuid REFERENCES conversations (id) ON DELETE SET NULL,
    -- no foreign key yet: the patients table comes with patient context
    patient_id          uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    finalized_at        timestamptz
);
CREATE INDEX dictation_sessions_user_activity ON dictation_sessions (user_id, updated_at DESC, id DESC);

-- A user's own medical terms: STT hints and spelling corrections on top of the built-in lists.
CREATE TABLE user_vocabulary (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    term       text NOT NULL CHECK (char_length(term) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX user_vocabulary_term ON user_vocabulary (user_id, lower(term));

-- +goose Down
DROP TABLE user_vocabulary;
DROP TABLE dictation_sessions;
