import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird
import Mustache

/// Renders portal pages: a page template inside the layout, with the navigation the signed-in
/// staff member may use, the organisation's banners and the one-time message of a redirect.
struct WebPages: Sendable {
    /// The banners every page shows.
    let notices: NoticeService
    /// Remembers, per session, that the credits pop-up was shown.
    let sessions: SessionService

    /// One entry of the navigation; shown only to staff with one of the permissions (none = everyone).
    struct NavItem: Sendable {
        let section: String
        let label: String
        let href: String
        let permissions: [Permission]
    }

    static let navigation: [NavItem] = [
        NavItem(section: "dashboard", label: "Dashboard", href: "/dashboard", permissions: []),
        NavItem(section: "compose", label: "Compose", href: "/compose", permissions: []),
        NavItem(section: "campaigns", label: "Campaigns", href: "/campaigns", permissions: []),
        NavItem(section: "inbox", label: "Messenger Center", href: "/inbox", permissions: []),
        NavItem(section: "voice", label: "Voice", href: "/voice", permissions: []),
        NavItem(section: "contacts", label: "Contacts", href: "/contacts", permissions: []),
        NavItem(section: "groups", label: "Groups", href: "/groups", permissions: []),
        NavItem(section: "credits", label: "Credits", href: "/credits", permissions: []),
        NavItem(section: "staff", label: "Staff", href: "/staff", permissions: []),
        NavItem(
            section: "buy",
            label: "Buy credits",
            href: "/credits/buy",
            permissions: [.purchaseCredits, .manageUserCredits]
        ),
        NavItem(section: "plan", label: "Plan", href: "/billing/plan", permissions: [.purchaseCredits, .viewLogs]),
        NavItem(section: "settings", label: "SMS settings", href: "/settings/sms", permissions: [.manageSettings]),
        NavItem(
            section: "organization",
            label: "Organisation",
            href: "/settings/organization",
            permissions: [.manageSettings, .purchaseCredits]
        ),
        NavItem(section: "webhooks", label: "Webhooks", href: "/settings/webhooks", permissions: [.manageSettings]),
        NavItem(section: "audit", label: "Audit log", href: "/audit-log", permissions: [.viewLogs]),
        NavItem(
            section: "billing",
            label: "Billing",
            href: "/billing/transactions",
            permissions: [.purchaseCredits, .viewLogs]
        ),
    ]

    /// True when the staff member may open a section's pages.
    static func allows(_ section: String, _ principal: Principal) -> Bool {
        guard let item = navigation.first(where: { $0.section == section }) else { return true }
        // With individual credits, everyone with a wallet buys into it (the Agentbox page).
        if section == "buy", principal.organization.creditMode == .individual, principal.staff.wallet != nil {
            return true
        }
        return item.permissions.isEmpty || item.permissions.contains { principal.can($0) }
    }

    /// Refuses a page the staff member may not open (its link is not shown to them either).
    static func require(_ section: String, _ principal: Principal) throws {
        guard allows(section, principal) else {
            let item = navigation.first { $0.section == section }
            throw AccessError(item?.permissions.first ?? .manageSettings)
        }
    }

    /// A full page for the signed-in staff member.
    func page(
        _ template: String,
        title: String,
        section: String,
        request: Request,
        context: AppRequestContext,
        values: [String: Any],
        status: HTTPResponse.Status = .ok,
        refusal: String? = nil
    ) async throws -> Response {
        let principal = try context.authenticated()
        var layout = values
        var status = status
        // A form shown again because it was refused: its sentence, and 422.
        if let refusal {
            layout["flash"] = ["kind": "error", "text": refusal, "role": "alert"]
            status = .unprocessableContent
        }
        layout["title"] = title
        layout["organization_name"] = principal.organization.name
        layout["staff_name"] = principal.staff.name
        layout["staff_role"] = principal.staff.role.rawValue
        layout["csrf"] = context.webSession?.csrfToken ?? ""
        layout["nav"] = WebPages.navigation.filter { WebPages.allows($0.section, principal) }.map {
            item -> [String: Any] in
            ["label": item.label, "href": item.href, "current": item.section == section]
        }
        let banners = try await notices.notices(principal)
        layout["banners"] = banners.map { notice -> [String: Any] in
            ["level": notice.level.rawValue, "message": notice.message]
        }
        // Staff who buy credits also get a pop-up about the credits, once per sign-in.
        if let notice = NoticeService.popUp(banners, for: principal), let session = context.webSession,
            try await sessions.claimCreditAlert(session)
        {
            layout["popup"] = WebPages.popUp(notice)
        }
        // A refusal of this request (a form shown again) wins over a message a redirect left.
        let flash = WebResponse.flashValues(request)
        if layout["flash"] == nil, let flash { layout["flash"] = flash }
        layout["body"] = WebPages.render(template, layout)
        var response = WebResponse.html(WebPages.render("layout", layout), status: status)
        if flash != nil { WebResponse.clearFlash(&response) }
        return response
    }

    /// The pop-up's heading and button for a credits notice: a new organisation is invited to buy
    /// its first credits, not told they are used up.
    static func popUp(_ notice: NoticeView) -> [String: Any] {
        let (heading, button) =
            switch notice.code {
            case .noCreditsYet: ("Buy your first credits", "Buy your first credits")
            case .outOfCredits: ("Out of SMS credits", "Buy credits")
            default: ("SMS credits are low", "Buy credits")
            }
        return ["heading": heading, "message": notice.message, "button": button, "code": notice.code.rawValue]
    }

    /// A page outside the signed-in area (sign-in, errors before sign-in).
    static func bare(_ template: String, title: String, values: [String: Any], status: HTTPResponse.Status = .ok)
        -> Response
    {
        var layout = values
        layout["title"] = title
        layout["body"] = render(template, layout)
        return WebResponse.html(render("layout", layout), status: status)
    }

    static func render(_ template: String, _ values: [String: Any]) -> String {
        guard let text = library.render(values, withTemplate: template) else {
            preconditionFailure("the portal template \(template) ships with the server")
        }
        return text
    }

    /// Every template in `Resources/web`, loaded once; partials refer to each other by file name.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let directory = Bundle.module.url(
            forResource: "layout",
            withExtension: "mustache",
            subdirectory: "Resources/web"
        )?
        .deletingLastPathComponent()
        let names = directory.flatMap { try? FileManager.default.contentsOfDirectory(atPath: $0.path) } ?? []
        let urls = names.filter { $0.hasSuffix(".mustache") }.compactMap { directory?.appendingPathComponent($0) }
        precondition(!urls.isEmpty, "the portal templates ship with the server")
        for url in urls {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                preconditionFailure("unreadable template \(url.path)")
            }
            do { try library.register(text, named: url.deletingPathExtension().lastPathComponent) } catch {
                preconditionFailure("template \(url.lastPathComponent) does not parse: \(error)")
            }
        }
        return library
    }()

    /// The stylesheet and script, served from memory.
    static let assets: [String: (contentType: String, body: ByteBuffer)] = {
        var assets: [String: (String, ByteBuffer)] = [:]
        for (name, type) in [
            ("app.css", "text/css; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"),
            ("contact-import.js", "text/javascript; charset=utf-8"),
        ] {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources/web"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { preconditionFailure("the portal's \(name) ships with the server") }
            assets[name] = (type, ByteBuffer(string: text))
        }
        return assets
    }()
}
