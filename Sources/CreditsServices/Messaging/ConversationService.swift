import CreditsCore
import CreditsStore
import Foundation

/// The Messenger Center: conversations listed, read, opened and closed, flagged, and answered.
/// A reply is priced and held like any send, and never goes to a number that opted out.
public struct ConversationService: Sendable {
    let conversations: ConversationStore
    let contacts: ContactStore
    let credits: CreditService
    let messaging: MessagingService
    let numbers: SendingNumbers
    let facts: Facts
    let prices: PriceList
    let now: @Sendable () -> Date

    public init(
        conversations: ConversationStore,
        contacts: ContactStore,
        credits: CreditService,
        messaging: MessagingService,
        numbers: SendingNumbers,
        facts: Facts,
        prices: PriceList,
        now: @escaping @Sendable () -> Date
    ) {
        self.conversations = conversations
        self.contacts = contacts
        self.credits = credits
        self.messaging = messaging
        self.numbers = numbers
        self.facts = facts
        self.prices = prices
        self.now = now
    }

    /// Conversations, most recent first, optionally filtered.
    public func list(_ principal: Principal, filter: ConversationFilter?, after cursor: RecencyCursor?, limit: Int)
        async throws -> [Conversation]
    {
        try await conversations.list(
            principal.organizationID,
            filter: filter,
            numbers: principal.staff.numbers.isEmpty ? nil : principal.staff.numbers,
            after: cursor,
            limit: limit
        )
    }

    /// A conversation with its messages; one on a number the staff member is not given is not
    /// theirs to see.
    public func conversation(_ principal: Principal, _ id: String) async throws -> (Conversation, [Message]) {
        guard let found = try await conversations.conversation(id, of: principal.organizationID),
            principal.staff.numbers.isEmpty || principal.staff.numbers.contains(found.0.number)
        else {
            throw NotFoundError("Conversation \(id)")
        }
        return found
    }

    /// Opens or closes a conversation, marks it read, or flags it (the API's PATCH and the
    /// Messenger Center's buttons).
    public func update(_ principal: Principal, _ id: String, _ patch: ConversationPatch) async throws -> (
        Conversation, [Message]
    ) {
        var status: ConversationStatus?
        if let text = patch.status {
            guard let known = ConversationStatus(rawValue: text) else { throw ConversationError.statusInvalid }
            status = known
        }
        _ = try await conversation(principal, id)
        try await conversations.update(
            id,
            of: principal.organizationID,
            status: status,
            read: patch.read == true,
            flagged: patch.flagged
        )
        return try await conversation(principal, id)
    }

    /// Marks a conversation read (opening it in the Messenger Center).
    public func markRead(_ principal: Principal, _ id: String) async throws {
        try await conversations.update(id, of: principal.organizationID, status: nil, read: true, flagged: nil)
    }

    /// The number a reply goes from: the one the conversation is on, priced by its kind; when
    /// that number was released, the organisation's default number (the reply then opens the
    /// conversation on that number).
    public func replyNumber(_ principal: Principal, _ conversation: Conversation) async throws -> AssignedNumber {
        if !conversation.number.isEmpty,
            let number = try await numbers.numbers(for: principal).first(where: {
                $0.number == conversation.number && $0.maySend
            })
        {
            return number
        }
        return try await numbers.sender(principal, requested: nil)
    }

    /// A staff reply in a conversation: priced and held like any send; never to an opted-out number.
    public func reply(_ principal: Principal, conversation id: String, body: String) async throws -> MessageView {
        let (conversation, _) = try await conversation(principal, id)
        if try await contacts.consent(organization: principal.organizationID, phone: conversation.phone) == .optedOut {
            throw SendError.optedOut(phone: conversation.phone)
        }
        try MessageBody.validate(body)
        let now = now()
        let sender = try await replyNumber(principal, conversation)
        let options = EstimateService.options(for: principal.organization, channel: sender.textChannel, prices: prices)
        let price = try Estimator.price(body: body, options: options)
        let item = MessagingService.Planned(
            id: Identifier.make("msg_"),
            phone: conversation.phone,
            text: price.text,
            segments: price.segments,
            credits: price.credits
        )
        let audit = AuditRecord(
            organization: principal.organizationID,
            actor: principal.actor,
            action: .smsRequested,
            message: "Requested to send SMS message to 1 recipient (reply to \(conversation.phone)).",
            subjectType: "conversation",
            subjectID: id,
            at: now
        )
        let account = try await credits.sendingAccount(principal)
        try await messaging.place(
            [item],
            organization: principal.organizationID,
            account: account,
            from: sender.number,
            channel: sender.textChannel,
            kind: .reply,
            campaign: nil,
            conversation: id,
            notBefore: now,
            actor: principal.actor,
            audits: [audit],
            now: now
        )
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
        try await conversations.update(id, of: principal.organizationID, status: nil, read: true, flagged: nil)
        return try await messaging.message(item.id, principal: principal)
    }
}
