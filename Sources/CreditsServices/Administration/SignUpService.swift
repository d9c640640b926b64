import CreditsAdapters
import CreditsCore
import CreditsStore
import Foundation

/// What the sign-up page asks for.
public struct SignUpInput: Sendable, Equatable {
    public var organizationName: String
    public var country: String
    public var timeZone: String
    public var ownerName: String
    public var email: String
    public var password: String
    public var passwordAgain: String

    public init(
        organizationName: String,
        country: String,
        timeZone: String,
        ownerName: String,
        email: String,
        password: String,
        passwordAgain: String
    ) {
        self.organizationName = organizationName
        self.country = country
        self.timeZone = timeZone
        self.ownerName = ownerName
        self.email = email
        self.password = password
        self.passwordAgain = passwordAgain
    }
}

/// Why a sign-up was refused (nothing was created).
public enum SignUpError: DomainError, Equatable {
    /// The country is not one the server sells credits in.
    case unsupportedCountry(String)
    /// The time zone is not one of the country's.
    case timeZoneNotInCountry(zone: String, country: Country)
    /// The two passwords differ.
    case passwordsDiffer
    /// Someone already signs in with this email.
    case emailTaken
    /// Too many sign-ups from this address lately.
    case throttled(retryAfter: Int)

    public var kind: RefusalKind {
        switch self {
        case .unsupportedCountry, .timeZoneNotInCountry, .passwordsDiffer: .invalid
        case .emailTaken: .conflict
        case .throttled: .tooManyRequests
        }
    }

    public var code: String {
        switch self {
        case .unsupportedCountry: "country_unsupported"
        case .timeZoneNotInCountry: "time_zone_not_in_country"
        case .passwordsDiffer: "passwords_differ"
        case .emailTaken: "email_taken"
        case .throttled: "sign_up_throttled"
        }
    }

    public var message: String {
        switch self {
        case .unsupportedCountry(let code):
            "Organisations can sign up in \(SignUpService.countryList) only, not \(code.isEmpty ? "no country" : code)."
        case .timeZoneNotInCountry(let zone, let country):
            "The time zone \(zone.isEmpty ? "chosen" : zone) is not one of \(country.name)'s; pick one from the list."
        case .passwordsDiffer: "The two passwords are not the same."
        case .emailTaken:
            "Someone already signs in with this email. Sign in instead, or use another email for the new organisation."
        case .throttled(let seconds):
            "Too many organisations were signed up from your address lately. Please try again in \(SignInError.spoken(seconds))."
        }
    }

    public var field: String? {
        switch self {
        case .unsupportedCountry: "country"
        case .timeZoneNotInCountry: "time_zone"
        case .passwordsDiffer: "password_again"
        case .emailTaken: "email"
        case .throttled: nil
        }
    }

    /// Seconds to wait, when the refusal is for now only.
    public var retryAfter: Int? {
        if case .throttled(let seconds) = self { return seconds }
        return nil
    }
}

/// The optional public sign-up (`textcredits serve --allow-signup`): a new organisation and its
/// owner, made by the same `AdministrationService.createOrganization` as `textcredits orgs
/// create`, then the owner is signed in. Tries are counted per client address in the sign-in
/// tallies table, so the limit holds across server processes.
public struct SignUpService: Sendable {
    let administration: AdministrationService
    let sessions: SessionService
    let organizations: OrganizationStore
    let tallies: SignInStore
    /// The countries the server sells credits in (a new organisation buys its own).
    public let countries: [Country]
    let now: @Sendable () -> Date

    public init(
        administration: AdministrationService,
        sessions: SessionService,
        organizations: OrganizationStore,
        tallies: SignInStore,
        countries: [Country],
        now: @escaping @Sendable () -> Date
    ) {
        self.administration = administration
        self.sessions = sessions
        self.organizations = organizations
        self.tallies = tallies
        self.countries = countries
        self.now = now
    }

    /// Sign-ups from one address: five a day go straight through, then an hour's wait that
    /// doubles up to a day (an office sharing one address rarely signs up twice).
    public static let backoff = SignInBackoff(
        freeFailures: 5,
        firstWait: 3600,
        longestWait: 24 * 3600,
        forgetAfter: 24 * 3600
    )

    static let countryList = "the United States, Canada, Australia, New Zealand and the United Kingdom"

    /// The organisation made and the owner's new session.
    public struct SignedUp: Sendable {
        public var organization: Organization
        public var owner: StaffMember
        public var token: String
        public var session: WebSessionRecord
    }

    /// Checks the input, counts the try against `address`, refuses an email already in use, then
    /// creates the organisation (shared credits, Simulator number on first use) and signs its owner in.
    public func signUp(_ input: SignUpInput, address: String) async throws -> SignedUp {
        guard let country = Country(code: input.country), countries.contains(country) else {
            throw SignUpError.unsupportedCountry(input.country)
        }
        guard country.timeZones.contains(input.timeZone) else {
            throw SignUpError.timeZoneNotInCountry(zone: input.timeZone, country: country)
        }
        _ = try InputRules.name(input.organizationName, field: "organization_name")
        _ = try InputRules.name(input.ownerName, field: "owner_name")
        let email = try InputRules.email(input.email)
        _ = try InputRules.password(input.password)
        guard input.password == input.passwordAgain else { throw SignUpError.passwordsDiffer }
        let instant = now()
        let key = SignInKey(hash: APIKeys.hash("sign-up:" + address), backoff: SignUpService.backoff)
        if let until = try await tallies.countTry([key], at: instant) {
            throw SignUpError.throttled(retryAfter: max(Int(until.timeIntervalSince(instant).rounded(.up)), 1))
        }
        guard try await organizations.staffMembers(withEmail: email).isEmpty else { throw SignUpError.emailTaken }
        let created = try await administration.createOrganization(
            name: input.organizationName,
            country: country,
            timeZone: input.timeZone,
            creditMode: .shared,
            ownerName: input.ownerName,
            ownerEmail: email,
            ownerPassword: input.password,
            actor: Actor(kind: .system, id: nil, name: "Sign-up page")
        )
        let (token, session) = try await sessions.open(for: created.owner)
        return SignedUp(organization: created.organization, owner: created.owner, token: token, session: session)
    }
}
