import CreditsCore
import CreditsStore
import Foundation

/// `PATCH /v1/organization/sms-settings`: any subset of the settings.
public struct SMSSettingsPatch: APIInput, Sendable {
    public var header: String?
    public var footer: String?
    public var signupMessage: String?
    public var sendingHours: SendingHoursPatch?
    public var smartEncoding: Bool?
    public var replyMode: ReplyMode?
    public var optOutReply: String?
    public var optInReply: String?
    public var helpReply: String?
    public var noReplyNotice: String?
    public var optInWording: String?
    public var joinKeyword: Bool?
    public var optInPage: Bool?
    public var mmsAsLink: Bool?
    public var reprocessFromTollFree: Bool?

    enum CodingKeys: String, CodingKey {
        case header, footer
        case signupMessage = "signup_message"
        case sendingHours = "sending_hours"
        case smartEncoding = "smart_encoding"
        case replyMode = "reply_mode"
        case optOutReply = "opt_out_reply"
        case optInReply = "opt_in_reply"
        case helpReply = "help_reply"
        case noReplyNotice = "no_reply_notice"
        case optInWording = "opt_in_wording"
        case joinKeyword = "join_keyword"
        case optInPage = "opt_in_page"
        case mmsAsLink = "mms_as_link"
        case reprocessFromTollFree = "reprocess_from_toll_free"
    }

    public static let fields = JSONFields([
        "header": nil, "footer": nil, "signup_message": nil, "smart_encoding": nil, "reply_mode": nil,
        "opt_out_reply": nil, "opt_in_reply": nil, "help_reply": nil, "no_reply_notice": nil,
        "opt_in_wording": nil, "join_keyword": nil, "opt_in_page": nil, "mms_as_link": nil,
        "reprocess_from_toll_free": nil,
        "sending_hours": JSONFields(["time_zone", "start", "end", "days"]),
    ])

    public init() {}

    /// The settings with this patch applied (not yet validated).
    public func applied(to settings: SMSSettings) -> SMSSettings {
        var result = settings
        if let header { result.header = header }
        if let footer { result.footer = footer }
        if let signupMessage { result.signupMessage = signupMessage }
        if let sendingHours {
            if let zone = sendingHours.timeZone { result.sendingHours.timeZone = zone }
            if let start = sendingHours.start { result.sendingHours.start = start }
            if let end = sendingHours.end { result.sendingHours.end = end }
            if let days = sendingHours.days { result.sendingHours.days = Array(Set(days)).sorted() }
        }
        if let smartEncoding { result.smartEncoding = smartEncoding }
        if let replyMode { result.replyMode = replyMode }
        if let optOutReply { result.optOutReply = optOutReply }
        if let optInReply { result.optInReply = optInReply }
        if let helpReply { result.helpReply = helpReply }
        if let noReplyNotice { result.noReplyNotice = noReplyNotice }
        if let optInWording { result.optInWording = optInWording }
        if let joinKeyword { result.joinKeyword = joinKeyword }
        if let optInPage { result.optInPage = optInPage }
        if let mmsAsLink { result.mmsAsLink = mmsAsLink }
        if let reprocessFromTollFree { result.reprocessFromTollFree = reprocessFromTollFree }
        return result
    }
}

/// Part of the sending hours.
public struct SendingHoursPatch: Decodable, Sendable {
    public var timeZone: String?
    public var start: TimeOfDay?
    public var end: TimeOfDay?
    public var days: [Weekday]?

    enum CodingKeys: String, CodingKey {
        case start, end, days
        case timeZone = "time_zone"
    }

    public init(timeZone: String? = nil, start: TimeOfDay? = nil, end: TimeOfDay? = nil, days: [Weekday]? = nil) {
        self.timeZone = timeZone
        self.start = start
        self.end = end
        self.days = days
    }
}

/// `POST /v1/staff`.
public struct NewStaffInput: APIInput, Sendable {
    public var name: String
    public var email: String
    public var role: Role
    public var permissions: [Permission]?
    public var password: String?
    public var creditsPerMonth: Credits?

    enum CodingKeys: String, CodingKey {
        case name, email, role, permissions, password
        case creditsPerMonth = "credits_per_month"
    }

    public static let fields = JSONFields(["name", "email", "role", "permissions", "password", "credits_per_month"])

    public init(
        name: String,
        email: String,
        role: Role,
        permissions: [Permission]? = nil,
        password: String? = nil,
        creditsPerMonth: Credits? = nil
    ) {
        self.name = name
        self.email = email
        self.role = role
        self.permissions = permissions
        self.password = password
        self.creditsPerMonth = creditsPerMonth
    }
}

/// `PATCH /v1/staff/{id}`.
public struct StaffPatch: APIInput, Sendable {
    public var name: String?
    public var email: String?
    public var role: Role?
    public var permissions: [Permission]?
    public var password: String?
    /// The staff member's own current password, needed to set their own new one.
    public var currentPassword: String?
    public var creditsPerMonth: Credits?
    public var lowBalanceThreshold: Credits?
    /// The numbers they may send from and see conversations of; empty for every number.
    public var numbers: [String]?

    enum CodingKeys: String, CodingKey {
        case name, email, role, permissions, password, numbers
        case currentPassword = "current_password"
        case creditsPerMonth = "credits_per_month"
        case lowBalanceThreshold = "low_balance_threshold"
    }

    public static let fields = JSONFields([
        "name", "email", "role", "permissions", "password", "current_password", "credits_per_month",
        "low_balance_threshold", "numbers",
    ])

    public init() {}
}

/// `PATCH /v1/organization`: the display name (`{{account}}` in keyword replies).
public struct OrganizationPatch: APIInput, Sendable {
    public var name: String?
    /// The day of the month (1–28) allotments are added and numbers charged.
    public var allotmentDay: Int?

    enum CodingKeys: String, CodingKey {
        case name
        case allotmentDay = "allotment_day"
    }

    public static let fields = JSONFields(["name", "allotment_day"])
}

/// `POST /v1/api-keys`.
public struct NewAPIKeyInput: APIInput, Sendable {
    public var name: String
    public var staffID: String?

    enum CodingKeys: String, CodingKey {
        case name
        case staffID = "staff_id"
    }

    public static let fields = JSONFields(["name", "staff_id"])
}
