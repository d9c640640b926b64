import CreditsCore
import CreditsStore

/// `POST /v1/estimate`.
public struct EstimateInput: APIInput, Sendable {
    public var body: String
    public var channel: Channel?
    /// Overrides the organisation's smart-encoding setting for this estimate.
    public var smartEncoding: Bool?
    /// Estimate a signup message (no header or footer) instead of a regular one.
    public var signup: Bool?

    enum CodingKeys: String, CodingKey {
        case body, channel, signup
        case smartEncoding = "smart_encoding"
    }

    public static let fields = JSONFields(["body", "channel", "smart_encoding", "signup"])

    public init(body: String, channel: Channel? = nil, smartEncoding: Bool? = nil, signup: Bool? = nil) {
        self.body = body
        self.channel = channel
        self.smartEncoding = smartEncoding
        self.signup = signup
    }
}

/// Estimates with an organisation's header, footer and smart-encoding setting: the same call the
/// composer's ticker, the API and the hold placed at send time make.
public enum EstimateService {
    /// The options an organisation's messages are estimated and charged with.
    public static func options(
        for organization: Organization,
        channel: Channel,
        smartEncoding: Bool? = nil,
        signup: Bool = false,
        prices: PriceList
    ) -> EstimateOptions {
        let settings = organization.smsSettings
        return EstimateOptions(
            channel: channel,
            smartEncoding: smartEncoding ?? settings.smartEncoding,
            composition: signup ? Composition() : Composition(header: settings.header, footer: settings.footer),
            businessName: organization.name,
            checksParts: !signup,
            prices: prices
        )
    }

    /// The estimate of a text as the organisation would send it.
    public static func estimate(_ input: EstimateInput, for organization: Organization, prices: PriceList)
        throws(MessageError) -> Estimate
    {
        let options = options(
            for: organization,
            channel: input.channel ?? .sms,
            smartEncoding: input.smartEncoding,
            signup: input.signup ?? false,
            prices: prices
        )
        if input.signup == true { _ = try Composition.composeSignup(input.body) }
        return try Estimator.estimate(body: input.body, options: options)
    }
}
