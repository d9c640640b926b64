/// Version 28: voice. A broadcast is a campaign of calls; every call (broadcast, click-to-call,
/// forwarded) is one row with its hold, its time limit and what settled it. Call forwarding is
/// one settings row per organisation. A recipient may opt out by pressing 9 (consent source
/// `keypress`, the recipient's own, like a keyword).
enum VoiceSchema {
    static let callStatuses =
        "('queued', 'dialing', 'in-progress', 'completed', 'no-answer', 'busy', 'failed', 'canceled')"

    static let migration = Migration(
        version: 28,
        name: "voice broadcasts, calls and call forwarding",
        sqliteWidenings: [
            SQLiteWidening(
                table: "consent_events",
                from: "source TEXT NOT NULL CHECK (source IN ('staff', 'api', 'keyword', 'import'))",
                to: "source TEXT NOT NULL CHECK (source IN ('staff', 'api', 'keyword', 'import', 'keypress'))"
            )
        ]
    ) { dialect in
        var statements = [
            """
            CREATE TABLE voice_broadcasts (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
                actor TEXT NOT NULL,
                actor_name TEXT NOT NULL,
                from_number TEXT NOT NULL,
                audio_media_id TEXT NULL REFERENCES media(id),
                say_text TEXT NULL,
                say_voice TEXT NULL,
                say_language TEXT NULL,
                machine_detection TEXT NOT NULL CHECK (machine_detection IN ('off', 'leave_message', 'hang_up')),
                seconds INTEGER NOT NULL CHECK (seconds > 0),
                send_at BIGINT NULL,
                not_before BIGINT NOT NULL,
                requested INTEGER NOT NULL CHECK (requested >= 0),
                accepted INTEGER NOT NULL CHECK (accepted >= 0),
                skipped TEXT NOT NULL,
                credits_reserved BIGINT NOT NULL CHECK (credits_reserved >= 0),
                created_at BIGINT NOT NULL,
                CHECK ((audio_media_id IS NULL) <> (say_text IS NULL)))
            """,
            "CREATE INDEX voice_broadcasts_organization ON voice_broadcasts (organization_id, created_at)",
            """
            CREATE TABLE calls (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id),
                kind TEXT NOT NULL CHECK (kind IN ('broadcast', 'outgoing', 'forwarded')),
                broadcast_id TEXT NULL REFERENCES voice_broadcasts(id),
                from_number TEXT NOT NULL,
                to_number TEXT NOT NULL,
                staff_phone TEXT NULL,
                status TEXT NOT NULL CHECK (status IN \(callStatuses)),
                answered_by TEXT NULL CHECK (answered_by IN ('human', 'machine', 'unknown')),
                machine_detection TEXT NOT NULL CHECK (machine_detection IN ('off', 'leave_message', 'hang_up')),
                hold_id TEXT NULL,
                credits BIGINT NOT NULL CHECK (credits >= 0),
                time_limit INTEGER NOT NULL CHECK (time_limit >= 0),
                duration INTEGER NULL CHECK (duration >= 0),
                connected_duration INTEGER NULL CHECK (connected_duration >= 0),
                charged BIGINT NULL CHECK (charged >= 0),
                provider_id TEXT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                retry INTEGER NOT NULL DEFAULT 0,
                not_before BIGINT NOT NULL,
                lease_until BIGINT NULL,
                voicemail_media_id TEXT NULL REFERENCES media(id),
                voicemail_seconds INTEGER NULL CHECK (voicemail_seconds >= 0),
                awaiting_recording INTEGER NOT NULL DEFAULT 0 CHECK (awaiting_recording IN (0, 1)),
                recording_url TEXT NULL,
                transcribe INTEGER NOT NULL CHECK (transcribe IN (0, 1)),
                transcription TEXT NULL,
                opted_out INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),
                error_code TEXT NULL,
                error_message TEXT NULL,
                note TEXT NULL,
                actor TEXT NULL,
                actor_name TEXT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL)
            """,
            "CREATE INDEX calls_organization ON calls (organization_id, created_at)",
            "CREATE INDEX calls_broadcast ON calls (broadcast_id) WHERE broadcast_id IS NOT NULL",
            "CREATE INDEX calls_queue ON calls (status, not_before)",
            "CREATE UNIQUE INDEX calls_provider ON calls (provider_id) WHERE provider_id IS NOT NULL",
            """
            CREATE TABLE call_forwarding (
                organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                numbers TEXT NOT NULL,
                ring_mode TEXT NOT NULL CHECK (ring_mode IN ('sequential', 'simultaneous')),
                ring_seconds INTEGER NOT NULL CHECK (ring_seconds BETWEEN 5 AND 60),
                hours TEXT NULL,
                greeting TEXT NOT NULL,
                transcribe INTEGER NOT NULL CHECK (transcribe IN (0, 1)),
                updated_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE simulator_calls (
                reference TEXT PRIMARY KEY,
                provider_id TEXT NOT NULL UNIQUE,
                payload TEXT NOT NULL,
                callback_delivered INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL)
            """,
        ]
        if dialect == .postgres {
            statements += [
                "ALTER TABLE consent_events DROP CONSTRAINT consent_events_source_check",
                """
                ALTER TABLE consent_events ADD CONSTRAINT consent_events_source_check
                    CHECK (source IN ('staff', 'api', 'keyword', 'import', 'keypress'))
                """,
            ]
        }
        return statements
    }
}
