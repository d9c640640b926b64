import CreditsCore
import CreditsStore
import Foundation

/// Voice: broadcasts (a recorded or spoken message to many), click-to-call, and call forwarding
/// with voicemail. As with texts, every call holds its credits when it is queued — all of a
/// broadcast's holds in one ledger operation, or none — and the provider is told a time limit
/// the hold covers, so a call never outspends the balance; `CallSettlementService` posts the hold
/// when the provider's final report comes.
public struct VoiceService: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let credits: CreditService
    let calls: CallStore
    let mediaStore: MediaStore
    let messaging: MessagingService
    let numbers: SendingNumbers
    let facts: Facts
    let prices: PriceList
    let holdTimeout: TimeInterval
    /// The longest an outgoing or forwarded call may last (minutes), whatever the balance.
    let callMinutesMax: Int
    let now: @Sendable () -> Date

    public init(
        database: any Database,
        ledgerStore: SQLLedgerStore,
        credits: CreditService,
        calls: CallStore,
        mediaStore: MediaStore,
        messaging: MessagingService,
        numbers: SendingNumbers,
        facts: Facts,
        prices: PriceList,
        holdTimeout: TimeInterval,
        callMinutesMax: Int = 60,
        now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.ledgerStore = ledgerStore
        self.credits = credits
        self.calls = calls
        self.mediaStore = mediaStore
        self.messaging = messaging
        self.numbers = numbers
        self.facts = facts
        self.prices = prices
        self.holdTimeout = holdTimeout
        self.callMinutesMax = callMinutesMax
        self.now = now
    }

    /// The longest message a broadcast plays.
    public static let messageSecondsMax = 600
    public static let sayTextLengthMax = 1000
    /// The greeting until an organisation writes its own.
    public static let defaultGreeting = "Sorry we missed your call. Please leave a message after the tone."

    // MARK: Broadcasts

    struct BroadcastPlan {
        var recipients: [RecipientRow]
        var skipped: [SkipReason: Int]
        var requested: Int
        var seconds: Int
        var perRecipient: Credits
        var notBefore: Date
        var from: String
        var machineDetection: MachineDetection
        var say: SayInput?
        var audio: String?
    }

    /// Checks a broadcast and works out its plan: the message and how long it plays, the
    /// recipients (opted-out, never opted-in, duplicate and unknown ones skipped and counted),
    /// when it may go out, and what each call holds. The estimate and the send share it.
    func plan(_ principal: Principal, _ input: BroadcastInput, now: Date) async throws -> BroadcastPlan {
        let organization = principal.organization
        let seconds: Int
        var say = input.say
        switch (input.audio, input.say) {
        case (let audio?, nil):
            guard let item = try await mediaStore.item(audio, of: organization.id) else {
                throw MediaError.unknown(audio)
            }
            guard let bytes = try await mediaStore.bytes(item.sha256),
                let length = AudioDuration.seconds(of: [UInt8](bytes), kind: item.kind)
            else { throw VoiceError.audioUnreadable }
            seconds = length + AudioDuration.spokenSeconds("", withOptOutPrompt: true)
        case (nil, let spoken?):
            let text = spoken.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw VoiceError.messageRequired }
            // Line breaks and tabs are words apart; any other control character would make the
            // provider's instructions unreadable (and the calls charged for an error message).
            guard
                !text.unicodeScalars.contains(where: {
                    $0.properties.generalCategory == .control && !["\n", "\r", "\t"].contains($0)
                })
            else { throw InputError.controlCharacters(field: "say.text") }
            guard text.unicodeScalars.count <= VoiceService.sayTextLengthMax else {
                throw InputError.tooLong(field: "say.text", limit: VoiceService.sayTextLengthMax)
            }
            if let voice = spoken.voice, !VoiceService.isVoice(voice) { throw VoiceError.voiceInvalid(voice) }
            if let language = spoken.language, !VoiceService.isLanguage(language) {
                throw VoiceError.languageInvalid(language)
            }
            say = SayInput(text: text, voice: spoken.voice, language: spoken.language)
            seconds = AudioDuration.spokenSeconds(text)
        default: throw VoiceError.messageRequired
        }
        guard seconds <= VoiceService.messageSecondsMax else { throw VoiceError.messageTooLong(seconds: seconds) }
        let detection = input.machineDetection ?? .off
        let from = try await numbers.sender(principal, requested: input.from).number
        let notBefore = try MessagingService.sendingTime(
            principal,
            sendAt: input.sendAt,
            automated: false,
            override: input.overrideSendingHours == true,
            now: now
        )
        let phones = input.to ?? []
        let contactIDs = input.contacts ?? []
        let groups = (input.groups ?? []).map { $0.lowercased() }
        guard !(phones.isEmpty && contactIDs.isEmpty && groups.isEmpty) else { throw SendError.recipientsRequired }
        guard phones.count + contactIDs.count <= MessagingService.recipientsMax else {
            throw SendError.tooManyRecipients(field: "to", maximum: MessagingService.recipientsMax)
        }
        let resolution = try await messaging.resolveRecipients(
            organization: organization,
            phones: phones,
            contactIDs: contactIDs,
            groups: groups
        )
        if resolution.requested > 1 { try principal.require(.sendMassTexts) }
        guard resolution.requested <= MessagingService.recipientsMax else {
            throw SendError.tooManyRecipients(field: "groups", maximum: MessagingService.recipientsMax)
        }
        return BroadcastPlan(
            recipients: resolution.recipients,
            skipped: resolution.skipped,
            requested: resolution.requested,
            seconds: seconds,
            perRecipient: prices.voiceBroadcast(seconds: seconds, machineDetection: detection.isOn),
            notBefore: notBefore,
            from: from,
            machineDetection: detection,
            say: say,
            audio: input.audio
        )
    }

    static func isVoice(_ voice: String) -> Bool {
        if ["woman", "man", "alice"].contains(voice) { return true }
        guard voice.hasPrefix("Polly."), voice.count <= 40 else { return false }
        return voice.dropFirst(6).allSatisfy { $0.isASCII && ($0.isLetter || $0 == "-") }
    }

    static func isLanguage(_ language: String) -> Bool {
        let parts = language.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 2 && parts[1].count == 2
            && parts[0].allSatisfy { $0.isASCII && $0.isLowercase }
            && parts[1].allSatisfy { $0.isASCII && $0.isUppercase }
    }

    /// What the broadcast will hold, without placing it.
    public func estimate(_ principal: Principal, _ input: BroadcastInput) async throws -> BroadcastEstimate {
        let plan = try await plan(principal, input, now: now())
        let account = try await credits.sendingAccount(principal)
        return BroadcastEstimate(
            recipients: plan.recipients.count,
            skipped: plan.skipped,
            seconds: plan.seconds,
            minutes: PriceList.startedMinutes(plan.seconds),
            machineDetection: plan.machineDetection,
            creditsPerRecipient: plan.perRecipient,
            creditsTotal: plan.perRecipient * plan.recipients.count,
            available: try await credits.available(account, of: principal.organizationID),
            from: plan.from
        )
    }

    /// Places a broadcast: one call per recipient, each holding the estimate, all reserved in one
    /// ledger operation with the broadcast, its calls and its audit entry — or, without enough
    /// credits, nothing.
    public func broadcast(_ principal: Principal, _ input: BroadcastInput) async throws -> BroadcastView {
        let now = now()
        let plan = try await plan(principal, input, now: now)
        guard !plan.recipients.isEmpty else { throw SendError.noEligibleRecipients(skipped: plan.skipped) }
        let account = try await credits.sendingAccount(principal)
        let allowance = CallAllowance.covered(
            by: plan.perRecipient,
            perMinute: prices.voiceBroadcastMinute,
            flat: plan.machineDetection.isOn ? prices.machineDetection : .zero,
            minutesMax: VoiceService.messageSecondsMax / 60
        )
        let id = Identifier.make("vbc_")
        let timeout = plan.notBefore.addingTimeInterval(holdTimeout)
        var holds: [PlannedHold] = []
        var queued: [Call] = []
        holds.reserveCapacity(plan.recipients.count)
        queued.reserveCapacity(plan.recipients.count)
        for recipient in plan.recipients {
            let callID = Identifier.make("call_")
            let hold = HoldID(Identifier.make("hold_"))
            holds.append(PlannedHold(hold: hold, amount: plan.perRecipient, reference: callID, timeoutAt: timeout))
            queued.append(
                Call(
                    id: callID,
                    organizationID: principal.organizationID,
                    kind: .broadcast,
                    broadcastID: id,
                    from: plan.from,
                    to: recipient.phone,
                    status: .queued,
                    machineDetection: plan.machineDetection,
                    holdID: hold,
                    credits: plan.perRecipient,
                    timeLimit: allowance.seconds,
                    notBefore: plan.notBefore,
                    actor: principal.actor.reference,
                    actorName: principal.actor.name,
                    createdAt: now
                )
            )
        }
        let total = plan.perRecipient * queued.count
        let broadcast = VoiceBroadcast(
            id: id,
            organizationID: principal.organizationID,
            account: account.id,
            actor: principal.actor.reference,
            actorName: principal.actor.name,
            from: plan.from,
            audioMedia: plan.audio,
            sayText: plan.say?.text,
            sayVoice: plan.say?.voice,
            sayLanguage: plan.say?.language,
            machineDetection: plan.machineDetection,
            seconds: plan.seconds,
            sendAt: input.sendAt,
            notBefore: plan.notBefore,
            requested: plan.requested,
            accepted: queued.count,
            skipped: plan.skipped,
            creditsReserved: total,
            createdAt: now
        )
        let skippedCount = plan.skipped.values.reduce(0, +)
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .voiceRequested,
            message:
                "Requested to send voice message to \(queued.count) \(queued.count == 1 ? "recipient" : "recipients")\(skippedCount == 0 ? "" : " (\(skippedCount) skipped)"). \(total) credits reserved.",
            subjectType: "voice_broadcast",
            subjectID: id,
            at: now
        )
        let request = LedgerRequest(
            organization: principal.organizationID,
            idempotencyKey: "reserve:\(id)",
            operation: .reserveAll(account: account.id, holds: holds),
            at: now,
            actor: principal.actor.reference,
            memo: queued.count == 1
                ? "Hold for a voice message to \(queued[0].to)" : "Holds for \(queued.count) voice messages"
        )
        try await reserve(request, account: account, principal: principal) { [queued] work in
            try await CallStore.insert(broadcast, calls: queued, in: work)
            try await AuditStore.insert([audit], in: work)
        }
        return try await view(broadcast: id, principal: principal)
    }

    public func view(broadcast id: String, principal: Principal) async throws -> BroadcastView {
        guard let broadcast = try await calls.broadcast(id, of: principal.organizationID) else {
            throw NotFoundError("Voice broadcast \(id)")
        }
        return BroadcastView(broadcast, tally: try await calls.tally(broadcast: id), now: now())
    }

    /// A broadcast's calls, newest first.
    public func calls(ofBroadcast id: String, principal: Principal, limit: Int = 500) async throws -> [CallView] {
        guard try await calls.broadcast(id, of: principal.organizationID) != nil else {
            throw NotFoundError("Voice broadcast \(id)")
        }
        return try await calls.calls(of: principal.organizationID, broadcast: id, before: nil, limit: limit).map(
            CallView.init
        )
    }

    // MARK: Click-to-call

    /// Rings the staff member's phone and connects them to the contact from the organisation's
    /// number. The hold is what the balance allows, up to `callMinutesMax` minutes; the connected
    /// leg is limited to the minutes it covers.
    public func call(_ principal: Principal, _ input: CallInput) async throws -> CallView {
        let organization = principal.organization
        let target: String
        switch (input.contact, input.to) {
        case (let contactID?, nil):
            guard let contact = try await messaging.contacts.contact(contactID, of: organization.id) else {
                throw NotFoundError("Contact \(contactID)")
            }
            target = contact.phone
        case (nil, let number?):
            target = try PhoneNumber(parsing: number, defaultCountry: organization.country).e164
        default: throw VoiceError.callTargetRequired
        }
        let staffPhone: String
        if let given = input.staff {
            staffPhone = try PhoneNumber(parsing: given, defaultCountry: organization.country).e164
        } else if let last = try await calls.lastStaffPhone(actor: principal.actor.reference, of: organization.id) {
            staffPhone = last
        } else {
            throw VoiceError.staffPhoneRequired
        }
        let from = try await numbers.sender(principal, requested: input.from).number
        let account = try await credits.sendingAccount(principal)
        let available = try await credits.available(account, of: organization.id)
        let allowance = CallAllowance.covered(
            by: available,
            perMinute: prices.outgoingCallMinute,
            minutesMax: callMinutesMax
        )
        guard allowance.minutes > 0 else {
            throw VoiceError.notEnoughForAMinute(available: available, perMinute: prices.outgoingCallMinute)
        }
        let now = now()
        let held = prices.outgoingCallMinute * allowance.minutes
        let call = Call(
            id: Identifier.make("call_"),
            organizationID: organization.id,
            kind: .outgoing,
            from: from,
            to: target,
            staffPhone: staffPhone,
            status: .queued,
            holdID: HoldID(Identifier.make("hold_")),
            credits: held,
            timeLimit: allowance.seconds,
            notBefore: now,
            actor: principal.actor.reference,
            actorName: principal.actor.name,
            createdAt: now
        )
        try await place(call, account: account, principal: principal, memo: "Hold for a call to \(target)")
        return CallView(call)
    }

    /// Reserves one call's hold and queues it, in one unit of work.
    func place(_ call: Call, account: LedgerAccount, principal: Principal, memo: String) async throws {
        guard let hold = call.holdID else { return }
        let request = LedgerRequest(
            organization: call.organizationID,
            idempotencyKey: "reserve:\(call.id)",
            operation: .reserve(
                hold: hold,
                account: account.id,
                amount: call.credits,
                reference: call.id,
                timeoutAt: call.notBefore.addingTimeInterval(holdTimeout)
            ),
            at: call.createdAt,
            actor: principal.actor.reference,
            memo: memo
        )
        let audit = AuditRecord(
            organization: call.organizationID,
            actor: principal.actor,
            action: .callRequested,
            message:
                "Requested a call to \(call.to), ringing \(call.staffPhone ?? "staff") first. \(call.credits) credits reserved (up to \(call.timeLimit / 60) minutes).",
            subjectType: "call",
            subjectID: call.id,
            at: call.createdAt
        )
        try await reserve(request, account: account, principal: principal) { work in
            try await CallStore.insert([call], in: work)
            try await AuditStore.insert([audit], in: work)
        }
    }

    /// Applies a reservation and, only if it fits, `write` in the same unit of work; refuses
    /// with the shortfall otherwise (nothing kept), and reports the balance change.
    func reserve(
        _ request: LedgerRequest,
        account: LedgerAccount,
        principal: Principal,
        _ write: @escaping @Sendable (UnitOfWork) async throws -> Void
    ) async throws {
        let ledgerStore = ledgerStore
        let result = try await database.unitOfWork { work in
            let results = try await ledgerStore.apply([request], in: work)
            guard case .success = results.first else { return results.first }
            try await write(work)
            return results.first
        }
        if case .failure(let error) = result {
            guard case .insufficientCredits(let available, let requested) = error else { throw error }
            throw SendError.insufficientCredits(available: available, requested: requested)
        }
        await facts.publish(
            .balanceChanged(
                BalanceChanged(
                    organization: principal.organizationID,
                    account: account.id,
                    isPool: account.kind == .pool,
                    spentBy: principal
                )
            )
        )
    }

    // MARK: Reading

    public func call(_ id: String, principal: Principal) async throws -> CallView {
        guard let call = try await calls.call(id), call.organizationID == principal.organizationID,
            try await visibleNumbers(principal).map({ $0.contains(call.from) }) ?? true
        else {
            throw NotFoundError("Call \(id)")
        }
        return CallView(call)
    }

    /// The numbers whose calls a staff member limited to some numbers sees (nil: all of them), as
    /// with conversations.
    func visibleNumbers(_ principal: Principal) async throws -> [String]? {
        guard !principal.staff.numbers.isEmpty else { return nil }
        return try await numbers.numbers(for: principal).map(\.number)
    }

    /// An organisation's calls (or only those with a voicemail), newest first.
    public func calls(_ principal: Principal, voicemailOnly: Bool = false, after cursor: RecencyCursor?, limit: Int)
        async throws -> (calls: [CallView], next: RecencyCursor?)
    {
        let found = try await calls.calls(
            of: principal.organizationID,
            voicemailOnly: voicemailOnly,
            fromNumbers: try await visibleNumbers(principal),
            before: cursor,
            limit: limit
        )
        let next =
            found.count == limit
            ? found.last.map { RecencyCursor(milliseconds: $0.createdAt.milliseconds, id: $0.id) } : nil
        return (found.map(CallView.init), next)
    }

    // MARK: Call forwarding

    public func forwarding(_ principal: Principal) async throws -> CallForwarding {
        try await calls.forwarding(of: principal.organizationID) ?? .off(greeting: VoiceService.defaultGreeting)
    }

    public func setForwarding(_ principal: Principal, _ input: ForwardingInput) async throws -> CallForwarding {
        try principal.require(.manageSettings)
        let country = principal.organization.country
        var numbers: [String] = []
        for raw in input.numbers ?? [] {
            let number = try PhoneNumber(parsing: raw, defaultCountry: country).e164
            if !numbers.contains(number) { numbers.append(number) }
        }
        guard numbers.count <= CallForwarding.forwardingNumbersMax else { throw VoiceError.tooManyForwardingNumbers }
        if input.enabled && numbers.isEmpty { throw VoiceError.forwardingNumbersRequired }
        let ringSeconds = input.ringSeconds ?? 20
        guard CallForwarding.ringSecondsRange.contains(ringSeconds) else { throw VoiceError.ringSecondsOutOfRange }
        let greeting = try InputRules.name(
            input.greeting ?? VoiceService.defaultGreeting,
            field: "greeting",
            limit: CallForwarding.greetingLengthMax
        )
        var hours: SendingHours?
        if let given = input.hours {
            do { hours = try given.validated() } catch { throw SettingsError.sendingHours(error) }
        }
        let forwarding = CallForwarding(
            enabled: input.enabled,
            numbers: numbers,
            ringMode: input.ringMode ?? .sequential,
            ringSeconds: ringSeconds,
            hours: hours,
            greeting: greeting,
            transcribe: input.transcribe ?? false
        )
        let sentence =
            forwarding.enabled
            ? "Call forwarding set: \(numbers.joined(separator: ", ")), \(forwarding.ringMode.rawValue), \(ringSeconds) seconds each\(forwarding.transcribe ? ", voicemail transcribed" : "")."
            : "Call forwarding turned off; calls go to voicemail."
        try await calls.saveForwarding(
            forwarding,
            of: principal.organizationID,
            at: now(),
            audit: AuditRecord(
                organization: principal.organizationID,
                actor: principal.actor,
                action: .callForwardingUpdated,
                message: AuditText(sentence),
                subjectType: "organization",
                subjectID: principal.organizationID.rawValue,
                at: now()
            )
        )
        return forwarding
    }
}
