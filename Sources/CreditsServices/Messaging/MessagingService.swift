import CreditsCore
import CreditsStore
import Foundation

/// Sending: a send request becomes a campaign whose messages are priced per recipient, reserved
/// (one hold each) and queued in one unit of work — all or nothing. Every send that spends
/// credits is reported as a `BalanceChanged` fact (auto-renew and low-balance alerts act on it).
public struct MessagingService: Sendable {
    let database: any Database
    let ledgerStore: SQLLedgerStore
    let credits: CreditService
    let contacts: ContactStore
    let messages: MessageStore
    let numbers: SendingNumbers
    let media: MediaService
    let settlement: SettlementService
    let facts: Facts
    let prices: PriceList
    /// How long a hold waits for its message's final status before the timeout policy applies.
    let holdTimeout: TimeInterval
    let now: @Sendable () -> Date

    public init(
        database: any Database,
        ledgerStore: SQLLedgerStore,
        credits: CreditService,
        contacts: ContactStore,
        messages: MessageStore,
        numbers: SendingNumbers,
        media: MediaService,
        settlement: SettlementService,
        facts: Facts,
        prices: PriceList,
        holdTimeout: TimeInterval,
        now: @escaping @Sendable () -> Date
    ) {
        self.media = media
        self.database = database
        self.ledgerStore = ledgerStore
        self.credits = credits
        self.contacts = contacts
        self.messages = messages
        self.numbers = numbers
        self.settlement = settlement
        self.facts = facts
        self.prices = prices
        self.holdTimeout = holdTimeout
        self.now = now
    }

    /// Most recipients one send may have.
    public static let recipientsMax = 100_000
    /// Individual audit entries for merge-field failures before they are summarised.
    static let mergeAuditsMax = 100

    /// A message ready to be reserved and queued.
    struct Planned {
        var id: String
        var phone: String
        var text: String
        var segments: Int
        var credits: Credits
        var contactID: String? = nil
        var name: String? = nil
    }

    // MARK: Campaigns

    public func send(_ principal: Principal, _ input: SendInput) async throws -> CampaignView {
        let now = now()
        let organization = principal.organization
        let plan = try await plan(principal, input, now: now)
        let (planned, skipped, notBefore, channel) = (plan.planned, plan.skipped, plan.notBefore, plan.channel)
        var audits = plan.mergeAudits(principal: principal, at: now)
        guard !planned.isEmpty else { throw SendError.noEligibleRecipients(skipped: skipped) }

        let account = try await credits.sendingAccount(principal)
        let from = plan.from
        let total = planned.reduce(Credits.zero) { $0 + $1.credits }
        var campaign = Campaign(
            id: Identifier.make("cmp_"),
            organizationID: organization.id,
            account: account.id,
            actor: principal.actor.reference,
            actorName: principal.actor.name,
            body: input.body,
            channel: channel,
            automated: input.automated ?? false,
            sendAt: input.sendAt,
            notBefore: notBefore,
            status: notBefore > now ? .scheduled : .sending,
            requested: plan.requested,
            accepted: planned.count,
            skipped: skipped,
            creditsReserved: total,
            createdAt: now,
            canceledAt: nil
        )
        campaign.media = plan.media.isEmpty ? nil : plan.media
        let skippedText = skipped.isEmpty ? "" : " (\(skipped.values.reduce(0, +)) skipped)"
        audits.insert(
            AuditRecord(
                organization: organization.id,
                actor: principal.actor,
                action: .smsRequested,
                message:
                    "Requested to send SMS message to \(planned.count) \(planned.count == 1 ? "recipient" : "recipients")\(skippedText).",
                subjectType: "campaign",
                subjectID: campaign.id,
                at: now
            ),
            at: 0
        )
        try await place(
            planned,
            organization: organization.id,
            account: account,
            from: from,
            channel: channel,
            media: plan.media,
            kind: .campaign,
            campaign: campaign,
            conversation: nil,
            notBefore: notBefore,
            actor: principal.actor,
            audits: audits,
            now: now
        )
        await facts.publish(
            .balanceChanged(
                BalanceChanged(
                    organization: organization.id,
                    account: account.id,
                    isPool: account.kind == .pool,
                    spentBy: principal
                )
            )
        )
        return try await view(campaign.id, principal: principal)
    }

    /// Recipients in request order, de-duplicated by number, with the opted-out and never
    /// opted-in left out and counted.
    func resolveRecipients(organization: Organization, phones: [String], contactIDs: [String], groups: [String])
        async throws
        -> (recipients: [RecipientRow], skipped: [SkipReason: Int], requested: Int)
    {
        var skipped: [SkipReason: Int] = [:]
        var normalized: [String] = []
        for raw in phones {
            if let number = try? PhoneNumber(parsing: raw, defaultCountry: organization.country).e164 {
                normalized.append(number)
            } else {
                skipped[.invalidNumber, default: 0] += 1
            }
        }
        let byPhone = try await contacts.recipients(organization.id, phones: Array(Set(normalized)))
        let lookup = Dictionary(byPhone.map { ($0.phone, $0) }, uniquingKeysWith: { first, _ in first })
        let (found, missingGroups, missingContacts) = try await contacts.recipients(
            organization.id,
            groups: groups,
            contactIDs: contactIDs
        )
        skipped[.notFound, default: 0] += missingGroups.count + missingContacts.count
        if skipped[.notFound] == 0 { skipped[.notFound] = nil }
        let candidates = normalized.compactMap { lookup[$0] } + found
        let requested = phones.count + found.count + missingGroups.count + missingContacts.count
        var seen = Set<String>()
        var recipients: [RecipientRow] = []
        for candidate in candidates {
            guard seen.insert(candidate.phone).inserted else {
                skipped[.duplicate, default: 0] += 1
                continue
            }
            switch candidate.consent {
            case .optedOut: skipped[.optedOut, default: 0] += 1
            case .pending: skipped[.notOptedIn, default: 0] += 1
            case .optedIn: recipients.append(candidate)
            }
        }
        return (recipients, skipped, requested)
    }

    /// When a campaign (texts or a voice broadcast) may go out (`SendTiming`): now, its scheduled
    /// time, or when the sending window opens. A manual send outside the window is refused unless
    /// overridden by someone allowed to.
    static func sendingTime(_ principal: Principal, sendAt: Date?, automated: Bool, override: Bool, now: Date) throws
        -> Date
    {
        let hours = principal.organization.smsSettings.sendingHours
        let timing = SendTiming.decide(
            sendAt: sendAt,
            automated: automated,
            override: override,
            hours: hours,
            now: now
        )
        switch timing {
        case .notBefore(let instant): return instant
        case .needsOverride(let instant):
            try principal.require(.overrideSendingHours)
            return instant
        case .sendAtOutOfRange: throw SendError.sendAtOutOfRange
        case .outsideHours(let opens): throw SendError.outsideSendingHours(hours: hours, opens: opens)
        }
    }

    /// Reserves a hold per message (one all-or-nothing ledger operation) and queues the messages,
    /// with the campaign and audit entries, in one unit of work. If the holds do not fit, nothing
    /// is kept and the send is refused with the shortfall.
    func place(
        _ planned: [Planned],
        organization: OrganizationID,
        account: LedgerAccount,
        from: String,
        channel: Channel,
        media: [String] = [],
        kind: MessageKind,
        campaign: Campaign?,
        conversation: String?,
        notBefore: Date,
        actor: Actor,
        audits: [AuditRecord],
        now: Date
    ) async throws {
        let timeout = notBefore.addingTimeInterval(holdTimeout)
        var holds: [PlannedHold] = []
        var queued: [Message] = []
        holds.reserveCapacity(planned.count)
        queued.reserveCapacity(planned.count)
        for item in planned {
            let hold = HoldID(Identifier.make("hold_"))
            holds.append(PlannedHold(hold: hold, amount: item.credits, reference: item.id, timeoutAt: timeout))
            var message =
                Message(
                    id: item.id,
                    organizationID: organization,
                    campaignID: campaign?.id,
                    conversationID: conversation,
                    direction: .outbound,
                    kind: kind,
                    from: from,
                    to: item.phone,
                    body: item.text,
                    channel: channel,
                    segments: item.segments,
                    credits: item.credits,
                    status: .queued,
                    holdID: hold,
                    notBefore: notBefore,
                    createdAt: now,
                    updatedAt: now
                )
            message.media = media.isEmpty ? nil : media
            queued.append(message)
        }
        let memo =
            planned.count == 1 ? "Hold for SMS to \(planned[0].phone)" : "Holds for \(planned.count) SMS messages"
        let request = LedgerRequest(
            organization: organization,
            idempotencyKey: "reserve:\(campaign?.id ?? planned[0].id)",
            operation: .reserveAll(account: account.id, holds: holds),
            at: now,
            actor: actor.reference,
            memo: memo
        )
        let ledgerStore = ledgerStore
        let result = try await database.unitOfWork { [queued] work in
            var messages = queued
            let results = try await ledgerStore.apply([request], in: work)
            guard case .success = results.first else { return results.first }
            if let campaign { try await MessageStore.insert(campaign, in: work) }
            // A reply lands in the conversation with that person on the number it goes from.
            if conversation != nil, let last = messages.last {
                let id = try await ConversationStore.touch(
                    organization: organization,
                    phone: last.to,
                    number: from,
                    message: last.body,
                    inbound: false,
                    flagged: false,
                    at: now,
                    in: work
                )
                for index in messages.indices { messages[index].conversationID = id }
            }
            try await MessageStore.insert(messages, in: work)
            try await AuditStore.insert(audits, in: work)
            return results.first
        }
        guard case .failure(let error) = result else { return }
        guard case .insufficientCredits(let available, let requested) = error else { throw error }
        throw SendError.insufficientCredits(available: available, requested: requested)
    }

    /// Queues messages that cost nothing (keyword answers, notices) in the caller's unit of work.
    static func queueFree(_ messages: [Message], in work: UnitOfWork) async throws {
        precondition(messages.allSatisfy { $0.holdID == nil && $0.credits == .zero }, "free messages hold no credits")
        try await MessageStore.insert(messages, in: work)
    }

    // MARK: Reading and canceling

    public func view(_ id: String, principal: Principal) async throws -> CampaignView {
        guard let campaign = try await messages.campaign(id, of: principal.organizationID) else {
            throw NotFoundError("Campaign \(id)")
        }
        let totals = try await messages.campaignTotals(id)
        return CampaignView(
            campaign: campaign,
            counts: totals.counts,
            creditsPosted: totals.charged,
            creditsReleased: totals.released
        )
    }

    /// A campaign's recipients (its messages with the contact's name), `limit` at a time, in
    /// queued order after `afterID`, or the ones named by `ids` (a page following the campaign
    /// live). Another organisation's campaign is not found.
    public func recipients(
        ofCampaign id: String,
        principal: Principal,
        status: MessageStatus? = nil,
        afterID: String? = nil,
        ids: [String]? = nil,
        limit: Int
    ) async throws -> [CampaignRecipient] {
        guard try await messages.campaign(id, of: principal.organizationID) != nil else {
            throw NotFoundError("Campaign \(id)")
        }
        return try await messages.recipients(
            ofCampaign: id,
            organization: principal.organizationID,
            status: status,
            afterID: afterID,
            ids: ids,
            limit: limit
        )
    }

    /// The organisation's campaigns, newest first, after `cursor`; with the cursor of the last one.
    public func campaigns(_ principal: Principal, after cursor: RecencyCursor?, limit: Int) async throws
        -> (campaigns: [CampaignView], last: RecencyCursor?)
    {
        let positions = try await messages.campaigns(of: principal.organizationID, after: cursor, limit: limit)
        var views: [CampaignView] = []
        for position in positions { views.append(try await view(position.id, principal: principal)) }
        return (views, positions.last)
    }

    /// Cancels what of a campaign has not been dispatched; holds are voided.
    public func cancel(_ id: String, principal: Principal) async throws -> CampaignView {
        guard let campaign = try await messages.campaign(id, of: principal.organizationID) else {
            throw NotFoundError("Campaign \(id)")
        }
        if campaign.actor != principal.actor.reference { try principal.require(.sendMassTexts) }
        let canceled = try await settlement.cancel(campaign: id, organization: principal.organizationID)
        guard !canceled.isEmpty || campaign.status == .canceled else { throw SendError.nothingToCancel }
        try await AuditStore.insert(
            [
                AuditRecord(
                    organization: principal.organizationID,
                    actor: principal.actor,
                    action: .smsCanceled,
                    message: "Canceled \(canceled.count) scheduled SMS messages; their credits were released.",
                    subjectType: "campaign",
                    subjectID: id,
                    at: now()
                )
            ],
            into: database
        )
        return try await view(id, principal: principal)
    }

    public func message(_ id: String, principal: Principal) async throws -> MessageView {
        guard let (message, history) = try await messages.message(id, of: principal.organizationID) else {
            throw NotFoundError("Message \(id)")
        }
        return MessageView(message: message, history: history)
    }
}
