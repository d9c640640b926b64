import CreditsCore
import CreditsStore
import Foundation

/// What a person typed on the public opt-in page.
public struct OptInPageInput: Sendable {
    public var name: String
    public var phone: String
    /// The agreement box was ticked.
    public var agreed: Bool
    /// The digest of the wording the page showed (`OptInService.Page.wordingDigest`).
    public var wordingDigest: String?

    public init(name: String, phone: String, agreed: Bool, wordingDigest: String?) {
        self.name = name
        self.phone = phone
        self.agreed = agreed
        self.wordingDigest = wordingDigest
    }
}

/// People opting themselves in (double opt-in): the organisation's public page, or JOIN by text
/// where it is on, records a request and texts "reply YES to confirm"; the YES (handled by
/// `InboundService`) turns the request into consent that keeps where it came from, when, from
/// which address and the exact wording shown. The page is rate-limited per client address and
/// per number, never texts an opted-out number, and sends one confirmation per number at a time.
/// The confirmation is the organisation's own text, paid from its pool like the signup message;
/// JOIN's is a keyword answer, free like HELP's.
public struct OptInService: Sendable {
    let store: OptInStore
    let organizations: OrganizationStore
    let contacts: ContactStore
    let messaging: MessagingService
    let numbers: SendingNumbers
    let limits: OptInLimits
    let now: @Sendable () -> Date

    public init(
        store: OptInStore,
        organizations: OrganizationStore,
        contacts: ContactStore,
        messaging: MessagingService,
        numbers: SendingNumbers,
        limits: OptInLimits = .standard,
        now: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.organizations = organizations
        self.contacts = contacts
        self.messaging = messaging
        self.numbers = numbers
        self.limits = limits
        self.now = now
    }

    /// What the public page shows: whose page it is and the exact wording a person agrees to.
    public struct Page: Sendable {
        public var organization: Organization
        public var wording: String
        /// Sent back with the form, so what is kept is what the person saw.
        public var wordingDigest: String
    }

    /// What a sign-up on the page did.
    public enum Outcome: Sendable, Equatable {
        /// A text asking them to reply YES is on its way.
        case sent
        /// One was sent a few minutes ago; no second one.
        case alreadySent
        /// The number already gets texts; nothing was sent.
        case alreadyOptedIn
        /// The number opted out (STOP): nothing was sent; only a text from it opts it back in.
        case optedOut
    }

    /// The page of an organisation; an id no organisation has, or a page its organisation has not
    /// opened, is not found.
    public func page(_ organizationID: String) async throws -> Page {
        guard organizationID.utf8.count <= 100,
            let organization = try await organizations.organization(OrganizationID(organizationID)),
            organization.smsSettings.optInPage
        else { throw NotFoundError("This sign-up page") }
        let wording = OptInService.wording(of: organization)
        return Page(organization: organization, wording: wording, wordingDigest: APIKeys.hash(wording))
    }

    /// The organisation's consent wording with its name filled in: the words a person is shown.
    static func wording(of organization: Organization) -> String {
        OptInWording.render(organization.smsSettings.optInWording, account: organization.name)
    }

    /// A sign-up on the public page from `address`: checks the form, counts it against the rate
    /// limits, and, unless the number is opted out, already opted in, or was sent a confirmation
    /// moments ago, texts it a request to reply YES and keeps the request. A refusal (a thrown
    /// error) sends nothing and keeps nothing.
    public func request(_ organizationID: String, _ input: OptInPageInput, address: String) async throws
        -> (Page, Outcome)
    {
        let page = try await page(organizationID)
        let organization = page.organization
        let name = try InputRules.name(input.name)
        let phone = try ContactRules.phone(input.phone, country: organization.country)
        guard input.agreed else { throw OptInError.notAgreed }
        guard let digest = input.wordingDigest, APIKeys.constantTimeEqual(digest, page.wordingDigest) else {
            throw OptInError.wordingChanged
        }
        let instant = now()
        let keys = [
            OptInTallyKey(
                hash: APIKeys.hash("opt-in address|\(OptInLimits.connection(address))"),
                triesMax: limits.perAddressMax,
                window: limits.addressWindow
            ),
            OptInTallyKey(
                hash: APIKeys.hash("opt-in number|\(organization.id.rawValue)|\(phone)"),
                triesMax: limits.perNumberMax,
                window: limits.numberWindow
            ),
            OptInTallyKey(
                hash: APIKeys.hash("opt-in organisation|\(organization.id.rawValue)"),
                triesMax: limits.perOrganizationMax,
                window: limits.organizationWindow
            ),
        ]
        if let full = try await store.countTry(keys, at: instant) {
            throw full == keys[0]
                ? OptInError.tooManyFromAddress
                : full == keys[1] ? OptInError.tooManyForNumber : OptInError.tooManyForOrganization
        }
        // What the page answers does not depend on the number's state (it would tell anyone
        // whether a number is on the list); an opted-out number is simply not texted.
        switch try await contacts.consent(organization: organization.id, phone: phone) {
        case .optedOut:
            return (page, .optedOut)
        case .optedIn:
            return (page, .alreadyOptedIn)
        case .pending:
            break
        }
        if let waiting = try await store.pending(organization: organization.id, phone: phone, at: instant),
            waiting.messageID != nil, instant.timeIntervalSince(waiting.requestedAt) < limits.resendAfter
        {
            return (page, .alreadySent)
        }
        let text = OptInWording.render(OptInWording.confirmation, account: organization.name)
        let messageID: String
        do {
            messageID = try await messaging.sendSystemText(
                text,
                organization: organization,
                phone: phone,
                audit: (
                    .optInRequested,
                    "\(name) (\(phone)) asked to be texted on the opt-in page; a text asking them to reply YES was sent."
                )
            )
        } catch let error as any DomainError where error.kind != .invalid {
            throw OptInError.cannotSendNow
        }
        try await store.insert(
            OptIn(
                id: Identifier.make("opt_"),
                organizationID: organization.id,
                phone: phone,
                name: name,
                source: .page,
                // A forwarded address is one hop, but a proxy could pass anything: keep what fits.
                address: String(address.unicodeScalars.prefix(200)),
                wording: page.wording,
                messageID: messageID,
                requestedAt: instant,
                expiresAt: instant.addingTimeInterval(limits.pendingLifetime)
            )
        )
        return (page, .sent)
    }
}
