import CreditsCore
import Foundation
import SQLKit

/// A voice broadcast as stored: what it plays, to how many, and what it reserved.
public struct VoiceBroadcast: Sendable, Equatable {
    public var id: String
    public var organizationID: OrganizationID
    public var account: AccountID
    public var actor: String
    public var actorName: String
    public var from: String
    public var audioMedia: String?
    public var sayText: String?
    public var sayVoice: String?
    public var sayLanguage: String?
    public var machineDetection: MachineDetection
    /// How long the message plays (the file's duration, or the spoken estimate).
    public var seconds: Int
    public var sendAt: Date?
    public var notBefore: Date
    public var requested: Int
    public var accepted: Int
    public var skipped: [SkipReason: Int]
    public var creditsReserved: Credits
    public var createdAt: Date

    public init(
        id: String,
        organizationID: OrganizationID,
        account: AccountID,
        actor: String,
        actorName: String,
        from: String,
        audioMedia: String?,
        sayText: String?,
        sayVoice: String?,
        sayLanguage: String?,
        machineDetection: MachineDetection,
        seconds: Int,
        sendAt: Date?,
        notBefore: Date,
        requested: Int,
        accepted: Int,
        skipped: [SkipReason: Int],
        creditsReserved: Credits,
        createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.account = account
        self.actor = actor
        self.actorName = actorName
        self.from = from
        self.audioMedia = audioMedia
        self.sayText = sayText
        self.sayVoice = sayVoice
        self.sayLanguage = sayLanguage
        self.machineDetection = machineDetection
        self.seconds = seconds
        self.sendAt = sendAt
        self.notBefore = notBefore
        self.requested = requested
        self.accepted = accepted
        self.skipped = skipped
        self.creditsReserved = creditsReserved
        self.createdAt = createdAt
    }
}

/// A report about a call from the provider: any of its fields may be missing.
public struct CallReport: Sendable, Equatable {
    public var callID: String?
    public var providerID: String
    public var status: CallStatus?
    public var duration: Int?
    public var connectedDuration: Int?
    public var answeredBy: AnsweredBy?
    public var errorCode: String?
    public var errorMessage: String?

    public init(
        callID: String?,
        providerID: String,
        status: CallStatus?,
        duration: Int? = nil,
        connectedDuration: Int? = nil,
        answeredBy: AnsweredBy? = nil,
        errorCode: String? = nil,
        errorMessage: String? = nil
    ) {
        self.callID = callID
        self.providerID = providerID
        self.status = status
        self.duration = duration
        self.connectedDuration = connectedDuration
        self.answeredBy = answeredBy
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
}

/// What a dispatch round did with a call.
public enum CallDispatchResult: Sendable, Equatable {
    case placed(providerID: String)
    case retry(at: Date, error: String)
    case failed(code: String, message: String)
}

/// Counts of a broadcast's calls by status, and what they were charged.
public struct CallTally: Sendable, Equatable {
    public var byStatus: [CallStatus: Int] = [:]
    public var answeredByMachine = 0
    public var optedOut = 0
    public var charged = Credits.zero
    public init() {}
}

/// Calls and voice broadcasts: insertion, claiming for dispatch (leases, like texts), reports,
/// voicemails, and reads. A method either is one transaction or takes the caller's unit of work.
public struct CallStore: Sendable {
    public let database: any Database

    public init(database: any Database) { self.database = database }

    static let columns =
        "id, organization_id, kind, broadcast_id, from_number, to_number, staff_phone, status, answered_by, machine_detection, hold_id, credits, time_limit, duration, connected_duration, charged, provider_id, attempts, retry, not_before, voicemail_media_id, voicemail_seconds, awaiting_recording, recording_url, transcribe, transcription, opted_out, error_code, error_message, note, actor, actor_name, created_at, updated_at"

    static let callRows = BulkTable<Call>(
        name: "calls",
        columns: [
            .text("id") { $0.id }, .text("organization_id") { $0.organizationID.rawValue },
            .text("kind") { $0.kind.rawValue }, .text("broadcast_id") { $0.broadcastID },
            .text("from_number") { $0.from }, .text("to_number") { $0.to }, .text("staff_phone") { $0.staffPhone },
            .text("status") { $0.status.rawValue }, .text("answered_by") { $0.answeredBy?.rawValue },
            .text("machine_detection") { $0.machineDetection.rawValue }, .text("hold_id") { $0.holdID?.rawValue },
            .bigint("credits") { $0.credits.milli }, .integer("time_limit") { $0.timeLimit },
            .text("provider_id") { $0.providerID }, .integer("attempts") { $0.attempts },
            .bigint("not_before") { $0.notBefore.milliseconds }, .integer("transcribe") { $0.transcribe ? 1 : 0 },
            .text("note") { $0.note }, .text("actor") { $0.actor }, .text("actor_name") { $0.actorName },
            .bigint("created_at") { $0.createdAt.milliseconds }, .bigint("updated_at") { $0.updatedAt.milliseconds },
        ]
    )

    static func call(_ row: any SQLRow) throws -> Call {
        var call = Call(
            id: try row.value("id"),
            organizationID: OrganizationID(try row.value("organization_id")),
            kind: CallKind(rawValue: try row.value("kind")) ?? .broadcast,
            broadcastID: try row.optional("broadcast_id"),
            from: try row.value("from_number"),
            to: try row.value("to_number"),
            staffPhone: try row.optional("staff_phone"),
            status: CallStatus(rawValue: try row.value("status")) ?? .failed,
            machineDetection: MachineDetection(rawValue: try row.value("machine_detection")) ?? .off,
            holdID: try row.optional("hold_id", as: String.self).map(HoldID.init),
            credits: Credits(milli: try row.value("credits")),
            timeLimit: try row.value("time_limit"),
            notBefore: try row.date("not_before"),
            transcribe: try row.value("transcribe", as: Int.self) == 1,
            note: try row.optional("note"),
            actor: try row.optional("actor"),
            actorName: try row.optional("actor_name"),
            createdAt: try row.date("created_at")
        )
        call.answeredBy = try row.optional("answered_by", as: String.self).flatMap(AnsweredBy.init(rawValue:))
        call.duration = try row.optional("duration")
        call.connectedDuration = try row.optional("connected_duration")
        call.charged = try row.optional("charged", as: Int64.self).map(Credits.init(milli:))
        call.providerID = try row.optional("provider_id")
        call.attempts = try row.value("attempts")
        call.voicemailMedia = try row.optional("voicemail_media_id")
        call.voicemailSeconds = try row.optional("voicemail_seconds")
        call.awaitsRecording = try row.value("awaiting_recording", as: Int.self) == 1
        call.recordingURL = try row.optional("recording_url")
        call.transcription = try row.optional("transcription")
        call.optedOut = try row.value("opted_out", as: Int.self) == 1
        call.errorCode = try row.optional("error_code")
        call.errorMessage = try row.optional("error_message")
        call.updatedAt = try row.date("updated_at")
        return call
    }

    // MARK: Writing

    /// Inserts a broadcast and its calls in the caller's unit of work; the broadcast keeps the id
    /// of the request that placed it (`RequestID.current`).
    public static func insert(_ broadcast: VoiceBroadcast, calls: [Call], in work: UnitOfWork) async throws {
        let skipped = String(decoding: try OrganizationStore.jsonEncoder.encode(broadcast.skipped), as: UTF8.self)
        try await work.sql.raw(
            """
            INSERT INTO voice_broadcasts (id, organization_id, account_id, actor, actor_name, from_number, audio_media_id, say_text,
                say_voice, say_language, machine_detection, seconds, send_at, not_before, requested, accepted, skipped,
                credits_reserved, created_at, request_id)
            VALUES (\(bind: broadcast.id), \(bind: broadcast.organizationID.rawValue), \(bind: broadcast.account.rawValue),
                \(bind: broadcast.actor), \(bind: broadcast.actorName), \(bind: broadcast.from), \(bind: broadcast.audioMedia),
                \(bind: broadcast.sayText), \(bind: broadcast.sayVoice), \(bind: broadcast.sayLanguage),
                \(bind: broadcast.machineDetection.rawValue), \(bind: broadcast.seconds), \(bind: broadcast.sendAt?.milliseconds),
                \(bind: broadcast.notBefore.milliseconds), \(bind: broadcast.requested), \(bind: broadcast.accepted), \(bind: skipped),
                \(bind: broadcast.creditsReserved.milli), \(bind: broadcast.createdAt.milliseconds),
                \(bind: RequestID.current?.rawValue))
            """
        ).run()
        try await insert(calls, in: work)
    }

    /// Inserts calls in the caller's unit of work.
    public static func insert(_ calls: [Call], in work: UnitOfWork) async throws {
        guard !calls.isEmpty else { return }
        try await BulkRows.insert(work.sql, into: callRows, rows: calls)
    }

    // MARK: Dispatch

    /// Calls a dispatcher may claim: queued and due.
    static func due(at now: Date) -> SQLQueryString { "status = 'queued' AND not_before <= \(bind: now.milliseconds)" }

    /// Whether any call is due, asked before a claim; ordered like the claim so PostgreSQL reads
    /// `calls_queue` whatever its statistics say (as `MessageStore.anyDue`).
    static func anyDue(at now: Date) -> SQLQueryString {
        "SELECT 1 AS due FROM calls WHERE \(due(at: now)) ORDER BY not_before LIMIT 1"
    }

    /// Claims up to `limit` queued calls that are due: they become `dialing` with a lease.
    public func claim(limit: Int, now: Date, leaseUntil: Date) async throws -> [(call: Call, retry: Bool)] {
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let due = CallStore.due(at: now)
        // Most polls find nothing due: asking a read connection first keeps them off the write lock.
        guard try await database.anyRow(CallStore.anyDue(at: now)) else { return [] }
        return try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE calls SET status = 'dialing', lease_until = \(bind: leaseUntil.milliseconds), attempts = attempts + 1,
                    updated_at = \(bind: now.milliseconds)
                WHERE id IN (SELECT id FROM calls WHERE \(due)
                             ORDER BY not_before LIMIT \(bind: limit)\(unsafeRaw: skipLocked))
                RETURNING \(unsafeRaw: CallStore.columns)
                """
            ).all().map { (try CallStore.call($0), try $0.value("retry", as: Int.self) == 1) }
        }
    }

    /// Puts calls whose dispatcher died (lease expired, no answer from the provider recorded)
    /// back in the queue as retries: the provider is asked for the earlier call before a new one.
    @discardableResult
    public func reclaimExpiredLeases(now: Date) async throws -> Int {
        let expired: SQLQueryString =
            "status = 'dialing' AND provider_id IS NULL AND lease_until < \(bind: now.milliseconds)"
        guard try await database.anyRow("SELECT 1 AS due FROM calls WHERE \(expired) LIMIT 1") else { return 0 }
        return try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE calls SET status = 'queued', retry = 1, lease_until = NULL, not_before = \(bind: now.milliseconds),
                    updated_at = \(bind: now.milliseconds)
                WHERE \(expired)
                RETURNING id
                """
            ).all().count
        }
    }

    /// Records what dispatch did with each call in the caller's unit of work; returns the calls
    /// it made final (failed for good), to settle in the same unit of work.
    public static func record(
        _ results: [(id: String, result: CallDispatchResult)],
        at instant: Date,
        in work: UnitOfWork
    )
        async throws -> [Call]
    {
        let sql = work.sql
        var finished: [String] = []
        // The organisations first, in one order (see `lock(_:in:)`): a failed call settles here.
        var organizations = Set<String>()
        for chunk in results.map(\.id).inListChunks {
            for row in try await sql.raw(
                "SELECT DISTINCT organization_id FROM calls WHERE \(chunk.sqlMembership("id", for: sql))"
            ).all() {
                organizations.insert(try row.value("organization_id", as: String.self))
            }
        }
        for organization in organizations.sorted() { try await work.database.lockOrganization(organization, on: sql) }
        for (id, result) in results {
            switch result {
            case .placed(let providerID):
                // A provider's sid another of our calls already holds (a retry that found someone
                // else's call) is not adopted: this call fails, nobody is charged twice.
                if let other = try await sql.raw(
                    "SELECT id FROM calls WHERE provider_id = \(bind: providerID)"
                ).first(), try other.value("id", as: String.self) != id {
                    let rows = try await sql.raw(
                        """
                        UPDATE calls SET status = 'failed', lease_until = NULL, error_code = 'provider_call_taken',
                            error_message = 'The provider named a call that belongs to another of our calls.',
                            updated_at = \(bind: instant.milliseconds)
                        WHERE id = \(bind: id) AND provider_id IS NULL AND status IN ('queued', 'dialing') RETURNING id
                        """
                    ).all()
                    if !rows.isEmpty { finished.append(id) }
                    continue
                }
                try await sql.raw(
                    """
                    UPDATE calls SET provider_id = \(bind: providerID), lease_until = NULL, updated_at = \(bind: instant.milliseconds)
                    WHERE id = \(bind: id) AND provider_id IS NULL
                    """
                ).run()
            case .retry(let at, let error):
                try await sql.raw(
                    """
                    UPDATE calls SET status = 'queued', lease_until = NULL, not_before = \(bind: at.milliseconds),
                        error_message = \(bind: error), updated_at = \(bind: instant.milliseconds)
                    WHERE id = \(bind: id) AND status = 'dialing'
                    """
                ).run()
            case .failed(let code, let message):
                let rows = try await sql.raw(
                    """
                    UPDATE calls SET status = 'failed', lease_until = NULL, error_code = \(bind: code), error_message = \(bind: message),
                        updated_at = \(bind: instant.milliseconds)
                    WHERE id = \(bind: id) AND status IN ('queued', 'dialing') RETURNING id
                    """
                ).all()
                if !rows.isEmpty { finished.append(id) }
            }
        }
        return try await calls(ids: finished, on: sql)
    }

    // MARK: Reports

    /// Applies a provider's report in the caller's unit of work. Reports may repeat or come out
    /// of order: a status only moves forward and a final one is kept; figures are filled in once.
    /// Returns the call as it stands after the report, or nil when it names no call we know.
    public static func apply(_ report: CallReport, at instant: Date, in work: UnitOfWork) async throws -> Call? {
        let sql = work.sql
        let found: Call?
        if let id = report.callID {
            found = try await lock(id, in: work)
        } else if let id = try await sql.raw(
            "SELECT id FROM calls WHERE provider_id = \(bind: report.providerID)"
        ).first()?.value("id", as: String.self) {
            found = try await lock(id, in: work)
        } else {
            found = nil
        }
        guard var call = found else { return nil }
        let reported = report.providerID.isEmpty ? nil : report.providerID
        if let known = call.providerID, let reported, known != reported {
            // A report about another call at the provider (a stale retry): not ours to apply.
            return call
        }
        if let status = report.status, call.status.accepts(status) { call.status = status }
        if call.duration == nil, let duration = report.duration, call.status.isFinal { call.duration = duration }
        if call.connectedDuration == nil, let connected = report.connectedDuration {
            call.connectedDuration = connected
        }
        if call.answeredBy == nil, let answered = report.answeredBy { call.answeredBy = answered }
        if call.errorCode == nil, let code = report.errorCode {
            call.errorCode = code
            call.errorMessage = report.errorMessage
        }
        if call.providerID == nil { call.providerID = reported }
        call.updatedAt = instant
        try await save(call, on: sql)
        return call
    }

    /// Notes a voicemail on a forwarded call (once).
    public static func voicemail(_ id: String, media: String, seconds: Int, at instant: Date, in work: UnitOfWork)
        async throws -> Call?
    {
        guard var call = try await lock(id, in: work) else { return nil }
        guard call.voicemailMedia == nil else { return call }
        call.voicemailMedia = media
        call.voicemailSeconds = seconds
        call.awaitsRecording = false
        call.updatedAt = instant
        try await save(call, on: work.sql)
        return call
    }

    /// Notes that the caller was offered voicemail: the call waits for the recording (or for the
    /// straggler job to decide there is none) before it settles.
    public static func expectRecording(_ id: String, at instant: Date, in work: UnitOfWork) async throws {
        try await work.sql.raw(
            """
            UPDATE calls SET awaiting_recording = 1, updated_at = \(bind: instant.milliseconds)
            WHERE id = \(bind: id) AND voicemail_media_id IS NULL AND charged IS NULL
            """
        ).run()
    }

    /// Notes where the provider keeps a voicemail's recording, before it is fetched (so a status
    /// report coming first does not settle the call without it).
    public static func recording(_ id: String, url: String, seconds: Int, at instant: Date, in work: UnitOfWork)
        async throws -> Call?
    {
        guard var call = try await lock(id, in: work), call.kind == .forwarded else { return nil }
        guard call.voicemailMedia == nil, call.recordingURL == nil else { return call }
        call.recordingURL = url
        call.voicemailSeconds = seconds
        call.awaitsRecording = true
        call.updatedAt = instant
        try await save(call, on: work.sql)
        return call
    }

    /// Stops waiting for a recording that never came or could not be fetched (noted on the call).
    public static func noRecording(_ id: String, reason: String?, at instant: Date, in work: UnitOfWork) async throws
        -> Call?
    {
        guard var call = try await lock(id, in: work), call.awaitsRecording else { return nil }
        call.awaitsRecording = false
        if let reason { call.note = [call.note, reason].compactMap { $0 }.joined(separator: " ") }
        call.updatedAt = instant
        try await save(call, on: work.sql)
        return call
    }

    /// Final calls still waiting for something that may never come: a recording (or the fetch of
    /// one), or a click-to-call's dial result — untouched since `before`.
    public func stragglers(before instant: Date, limit: Int) async throws -> [Call] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: CallStore.columns) FROM calls
                WHERE charged IS NULL AND status IN ('completed', 'no-answer', 'busy', 'failed', 'canceled')
                  AND (awaiting_recording = 1 OR (kind = 'outgoing' AND status = 'completed' AND connected_duration IS NULL))
                  AND updated_at < \(bind: instant.milliseconds)
                ORDER BY updated_at LIMIT \(bind: limit)
                """
            ).all().map(CallStore.call)
        }
    }

    /// Notes a voicemail's transcription (once); a failed one ends the wait with no text paid for.
    public static func transcription(_ id: String, text: String?, at instant: Date, in work: UnitOfWork) async throws
        -> Call?
    {
        guard var call = try await lock(id, in: work) else { return nil }
        // It may come before the recording is kept: noted all the same, once.
        guard call.kind == .forwarded, call.transcribe, call.transcription == nil else { return call }
        if let text, !text.isEmpty {
            call.transcription = text
        } else {
            call.transcribe = false
            call.note = [call.note, "The voicemail could not be transcribed."].compactMap { $0 }.joined(separator: " ")
        }
        call.updatedAt = instant
        try await save(call, on: work.sql)
        return call
    }

    /// Notes that the person pressed 9 to stop these calls.
    public static func optOut(_ id: String, at instant: Date, in work: UnitOfWork) async throws -> Call? {
        guard var call = try await lock(id, in: work), call.kind == .broadcast else { return nil }
        call.optedOut = true
        call.updatedAt = instant
        try await save(call, on: work.sql)
        return call
    }

    /// Records what a call was charged (its hold settled); false when it was already.
    public static func charge(_ id: String, _ amount: Credits, at instant: Date, in work: UnitOfWork) async throws
        -> Bool
    {
        !(try await work.sql.raw(
            """
            UPDATE calls SET charged = \(bind: amount.milli), updated_at = \(bind: instant.milliseconds)
            WHERE id = \(bind: id) AND charged IS NULL RETURNING id
            """
        ).all()).isEmpty
    }

    /// Locks a call and then its organisation, before anything is written. The organisation
    /// comes before the first update on PostgreSQL: a call updated twice in one transaction has
    /// its foreign key checked again, which share-locks the organisation, and two settlements
    /// each holding that share lock and asking for the ledger's exclusive one would deadlock.
    static func lock(_ id: String, in work: UnitOfWork) async throws -> Call? {
        let forUpdate = work.sql.storeDialect == .postgres ? " FOR UPDATE" : ""
        guard
            let found = try await work.sql.raw(
                "SELECT \(unsafeRaw: columns) FROM calls WHERE id = \(bind: id)\(unsafeRaw: forUpdate)"
            ).first().map(call)
        else { return nil }
        try await work.database.lockOrganization(found.organizationID.rawValue, on: work.sql)
        return found
    }

    static func save(_ call: Call, on sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            UPDATE calls SET status = \(bind: call.status.rawValue), answered_by = \(bind: call.answeredBy?.rawValue),
                duration = \(bind: call.duration), connected_duration = \(bind: call.connectedDuration),
                provider_id = \(bind: call.providerID), voicemail_media_id = \(bind: call.voicemailMedia),
                voicemail_seconds = \(bind: call.voicemailSeconds), awaiting_recording = \(bind: call.awaitsRecording ? 1 : 0),
                recording_url = \(bind: call.recordingURL), transcribe = \(bind: call.transcribe ? 1 : 0),
                transcription = \(bind: call.transcription), opted_out = \(bind: call.optedOut ? 1 : 0),
                error_code = \(bind: call.errorCode), error_message = \(bind: call.errorMessage), note = \(bind: call.note),
                lease_until = NULL, updated_at = \(bind: call.updatedAt.milliseconds)
            WHERE id = \(bind: call.id)
            """
        ).run()
    }

    static func calls(ids: [String], on sql: any SQLDatabase) async throws -> [Call] {
        var result: [Call] = []
        for chunk in ids.inListChunks {
            result += try await sql.raw(
                "SELECT \(unsafeRaw: columns) FROM calls WHERE \(chunk.sqlMembership("id", for: sql)) ORDER BY id"
            ).all().map(call)
        }
        return result
    }

    // MARK: Reading

    public func call(byProviderID providerID: String) async throws -> Call? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT \(unsafeRaw: CallStore.columns) FROM calls WHERE provider_id = \(bind: providerID)"
            )
            .first().map(CallStore.call)
        }
    }

    public func call(_ id: String) async throws -> Call? {
        try await database.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: CallStore.columns) FROM calls WHERE id = \(bind: id)").first().map(
                CallStore.call
            )
        }
    }

    /// An organisation's calls, newest first, optionally of one kind or only those with a voicemail.
    public func calls(
        of organization: OrganizationID,
        kind: CallKind? = nil,
        voicemailOnly: Bool = false,
        broadcast: String? = nil,
        fromNumbers: [String]? = nil,
        before cursor: RecencyCursor?,
        limit: Int
    ) async throws -> [Call] {
        try await database.read { sql in
            var query: SQLQueryString =
                "SELECT \(unsafeRaw: CallStore.columns) FROM calls WHERE organization_id = \(bind: organization.rawValue)"
            if let kind { query = query + " AND kind = \(bind: kind.rawValue)" }
            if voicemailOnly { query = query + " AND voicemail_media_id IS NOT NULL" }
            if let broadcast { query = query + " AND broadcast_id = \(bind: broadcast)" }
            if let fromNumbers {
                guard !fromNumbers.isEmpty else { return [] }
                query = query + " AND \(fromNumbers.sqlMembership("from_number", for: sql))"
            }
            if let cursor { query = query + cursor.condition(instant: "created_at", id: "id") }
            query = query + " ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            return try await sql.raw(query).all().map(CallStore.call)
        }
    }

    public func broadcast(_ id: String, of organization: OrganizationID) async throws -> VoiceBroadcast? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    """
                    SELECT * FROM voice_broadcasts WHERE id = \(bind: id) AND organization_id = \(bind: organization.rawValue)
                    """
                ).first()
            else { return nil }
            let skipped = try JSONDecoder().decode(
                [SkipReason: Int].self,
                from: Data((try row.value("skipped", as: String.self)).utf8)
            )
            return VoiceBroadcast(
                id: try row.value("id"),
                organizationID: OrganizationID(try row.value("organization_id")),
                account: AccountID(try row.value("account_id")),
                actor: try row.value("actor"),
                actorName: try row.value("actor_name"),
                from: try row.value("from_number"),
                audioMedia: try row.optional("audio_media_id"),
                sayText: try row.optional("say_text"),
                sayVoice: try row.optional("say_voice"),
                sayLanguage: try row.optional("say_language"),
                machineDetection: MachineDetection(rawValue: try row.value("machine_detection")) ?? .off,
                seconds: try row.value("seconds"),
                sendAt: try row.optionalDate("send_at"),
                notBefore: try row.date("not_before"),
                requested: try row.value("requested"),
                accepted: try row.value("accepted"),
                skipped: skipped,
                creditsReserved: Credits(milli: try row.value("credits_reserved")),
                createdAt: try row.date("created_at")
            )
        }
    }

    /// How a broadcast's calls stand.
    public func tally(broadcast id: String) async throws -> CallTally {
        try await database.read { sql in
            var tally = CallTally()
            for row in try await sql.raw(
                """
                SELECT status, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN answered_by = 'machine' THEN 1 ELSE 0 END) AS BIGINT) AS machines,
                    CAST(SUM(opted_out) AS BIGINT) AS opted, CAST(COALESCE(SUM(charged), 0) AS BIGINT) AS charged
                FROM calls WHERE broadcast_id = \(bind: id) GROUP BY status
                """
            ).all() {
                guard let status = CallStatus(rawValue: try row.value("status")) else { continue }
                tally.byStatus[status] = Int(try row.value("n", as: Int64.self))
                tally.answeredByMachine += Int(try row.value("machines", as: Int64.self))
                tally.optedOut += Int(try row.value("opted", as: Int64.self))
                tally.charged += Credits(milli: try row.value("charged", as: Int64.self))
            }
            return tally
        }
    }

    /// Calls still holding credits past `before` (no final report came): for the hold timeout job.
    public func stale(before instant: Date, limit: Int) async throws -> [Call] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT \(unsafeRaw: CallStore.columns) FROM calls
                WHERE charged IS NULL AND hold_id IS NOT NULL AND updated_at < \(bind: instant.milliseconds)
                  AND status <> 'queued'
                ORDER BY updated_at LIMIT \(bind: limit)
                """
            ).all().map(CallStore.call)
        }
    }

    /// The phone a staff member was rung on for their latest click-to-call.
    public func lastStaffPhone(actor: String, of organization: OrganizationID) async throws -> String? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT staff_phone FROM calls WHERE organization_id = \(bind: organization.rawValue) AND kind = 'outgoing'
                  AND actor = \(bind: actor) ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first()?.optional("staff_phone", as: String.self)
        }
    }

    // MARK: Call forwarding

    public func forwarding(of organization: OrganizationID) async throws -> CallForwarding? {
        try await database.read { sql in
            guard
                let row = try await sql.raw(
                    "SELECT * FROM call_forwarding WHERE organization_id = \(bind: organization.rawValue)"
                ).first()
            else { return nil }
            let numbers = (try row.value("numbers", as: String.self)).split(separator: ",").map(String.init)
            let hours = try row.optional("hours", as: String.self).map {
                try JSONDecoder().decode(SendingHours.self, from: Data($0.utf8))
            }
            return CallForwarding(
                enabled: try row.value("enabled", as: Int.self) == 1,
                numbers: numbers,
                ringMode: CallForwarding.RingMode(rawValue: try row.value("ring_mode")) ?? .sequential,
                ringSeconds: try row.value("ring_seconds"),
                hours: hours,
                greeting: try row.value("greeting"),
                transcribe: try row.value("transcribe", as: Int.self) == 1
            )
        }
    }

    public func saveForwarding(
        _ forwarding: CallForwarding,
        of organization: OrganizationID,
        at instant: Date,
        audit: AuditRecord
    ) async throws {
        let hours = try forwarding.hours.map {
            String(decoding: try OrganizationStore.jsonEncoder.encode($0), as: UTF8.self)
        }
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO call_forwarding (organization_id, enabled, numbers, ring_mode, ring_seconds, hours, greeting, transcribe, updated_at)
                VALUES (\(bind: organization.rawValue), \(bind: forwarding.enabled ? 1 : 0), \(bind: forwarding.numbers.joined(separator: ",")),
                    \(bind: forwarding.ringMode.rawValue), \(bind: forwarding.ringSeconds), \(bind: hours), \(bind: forwarding.greeting),
                    \(bind: forwarding.transcribe ? 1 : 0), \(bind: instant.milliseconds))
                ON CONFLICT (organization_id) DO UPDATE SET enabled = excluded.enabled, numbers = excluded.numbers,
                    ring_mode = excluded.ring_mode, ring_seconds = excluded.ring_seconds, hours = excluded.hours,
                    greeting = excluded.greeting, transcribe = excluded.transcribe, updated_at = excluded.updated_at
                """
            ).run()
            try await AuditStore.insert([audit], on: sql)
        }
    }
}
