import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Groups: create, rename and delete them, with how many members each has and how many of those
/// a text reaches now (opted in). Members are listed on the contacts page, filtered by group.
extension WebRoutes {
    func addGroups(to portal: RouterGroup<AppRequestContext>) {
        let (routes, contacts) = (self, contacts)
        portal.get("/groups") { request, context in
            try await routes.groupsPage(request, context, typed: nil, error: nil)
        }
        portal.post("/groups") { request, context in
            let (principal, form) = try context.webForm()
            return try await WebRoutes.keepingInput {
                let group = try await contacts.createGroup(principal, GroupInput(name: form.value("name") ?? ""))
                return WebResponse.redirect(
                    "/groups",
                    notice: "Group \(group.name) created. Add contacts to it from their page or when you add them."
                )
            } refused: { message in
                try await routes.groupsPage(request, context, typed: form, error: message)
            }
        }
        portal.post("/groups/:id") { request, context in
            let (principal, form) = try context.webForm()
            let id = try context.parameter("id")
            return try await WebRoutes.keepingInput {
                let before = try await contacts.group(principal, id)
                let group = try await contacts.renameGroup(principal, id, GroupInput(name: form.value("name") ?? ""))
                return WebResponse.redirect("/groups", notice: "Group \(before.name) is now \(group.name).")
            } refused: { message in
                try await routes.groupsPage(request, context, typed: form, error: message)
            }
        }
        portal.post("/groups/:id/delete") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/groups") { principal, _ in
                let group = try await contacts.deleteGroup(principal, id)
                return (
                    "/groups",
                    "Group \(group.name) deleted; its \(WebFormat.count(group.contacts, "contact")) were kept."
                )
            }
        }
    }

    /// Every group with its counts, the form to add one, and each one's rename and delete.
    func groupsPage(_ request: Request, _ context: AppRequestContext, typed: WebForm?, error: String?)
        async throws -> Response
    {
        let principal = try context.authenticated()
        let groups = try await contacts.groups(principal)
        // A refused rename shows what was typed in that group's box.
        let renaming = typed?.value("group_id")
        let values: [String: Any] = [
            "has_groups": !groups.isEmpty,
            "groups": groups.map { group -> [String: Any] in
                [
                    "id": group.id, "name": group.name,
                    "rename": renaming == group.id ? typed?.value("name") ?? group.name : group.name,
                    "contacts": WebFormat.count(group.contacts, "contact"),
                    "opted_in": String(group.optedIn),
                    "skipped": String(group.contacts - group.optedIn),
                    "members_href": WebRoutes.link("/contacts", [("group", group.name)]),
                ]
            },
            "new_name": renaming == nil ? typed?.value("name") ?? "" : "",
        ]
        return try await pages.page(
            "groups",
            title: "Groups",
            section: "groups",
            request: request,
            context: context,
            values: values,
            refusal: error
        )
    }
}
