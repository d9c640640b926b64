import Foundation

/// How much the public opt-in page lets anyone ask for, so it cannot be used to text strangers
/// or to drain an organisation's credits: a few sign-ups per connection and per number, and one
/// confirmation text per number at a time.
public struct OptInLimits: Sendable, Equatable {
    /// Most sign-ups one client address may send (to any organisation) within `addressWindow`.
    public var perAddressMax: Int
    public var addressWindow: TimeInterval
    /// Most sign-ups for one number of one organisation within `numberWindow`.
    public var perNumberMax: Int
    public var numberWindow: TimeInterval
    /// A number that was sent a confirmation this recently is not sent another.
    public var resendAfter: TimeInterval
    /// How long a confirmation waits for the YES; a later YES is an ordinary START.
    public var pendingLifetime: TimeInterval
    /// Most sign-ups one organisation's page takes within `organizationWindow`, from everyone:
    /// what a script rotating addresses can spend of its credits at most.
    public var perOrganizationMax: Int
    public var organizationWindow: TimeInterval

    public init(
        perAddressMax: Int,
        addressWindow: TimeInterval,
        perNumberMax: Int,
        numberWindow: TimeInterval,
        resendAfter: TimeInterval,
        pendingLifetime: TimeInterval,
        perOrganizationMax: Int = 200,
        organizationWindow: TimeInterval = 86_400
    ) {
        precondition(
            perAddressMax > 0 && perNumberMax > 0 && perOrganizationMax > 0,
            "a limit lets at least one sign-up through"
        )
        self.perOrganizationMax = perOrganizationMax
        self.organizationWindow = organizationWindow
        self.perAddressMax = perAddressMax
        self.addressWindow = addressWindow
        self.perNumberMax = perNumberMax
        self.numberWindow = numberWindow
        self.resendAfter = resendAfter
        self.pendingLifetime = pendingLifetime
    }

    /// Ten sign-ups an hour per connection (a family signing up several children, a front-desk
    /// tablet; an IPv6 connection counts by its /64 network), three a day per number, 200 a day
    /// per organisation, one confirmation per number every ten minutes, and a day to reply YES.
    public static let standard = OptInLimits(
        perAddressMax: 10,
        addressWindow: 3600,
        perNumberMax: 3,
        numberWindow: 86_400,
        resendAfter: 600,
        pendingLifetime: 86_400
    )
}

extension OptInLimits {
    /// The part of a client address the per-connection limit counts: an IPv4 address whole, an
    /// IPv6 address by its /64 network (one subscriber's line holds a whole /64).
    public static func connection(_ address: String) -> String {
        guard address.contains(":") else { return address }
        let halves = address.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
            .map { $0.split(separator: ":", omittingEmptySubsequences: true).map(String.init) }
        var groups = halves[0]
        if halves.count == 2 {
            groups += Array(repeating: "0", count: max(0, 8 - halves[0].count - halves[1].count)) + halves[1]
        }
        return groups.prefix(4).map { $0.lowercased() }.joined(separator: ":") + "::/64"
    }
}

/// Where a person asked to be texted: the organisation's public page or the JOIN keyword.
public enum OptInSource: String, Sendable, Codable, CaseIterable {
    case page
    case keyword

    /// How the contact page names it.
    public var label: String {
        switch self {
        case .page: "opt-in page"
        case .keyword: "JOIN keyword"
        }
    }
}
