import CreditsCore
import CreditsServices
import CreditsStore
import Foundation
import Hummingbird

/// Staff: everyone's own password and low-balance alert; for those who manage settings, the
/// staff list with roles, adding and removing staff.
extension WebRoutes {
    func addStaff(to portal: RouterGroup<AppRequestContext>) {
        let (pages, administration, numbers) = (pages, administration, numbers)
        portal.get("/staff") { request, context in
            let principal = try context.authenticated()
            let manages = principal.can(.manageSettings)
            let staff = manages ? try await administration.staff(principal) : []
            let inUse = manages ? try await numbers.numbers(of: principal.organizationID) : []
            let values: [String: Any] = [
                "me": [
                    "id": principal.staff.id, "name": principal.staff.name, "email": principal.staff.email,
                    "role": principal.staff.role.label,
                    "permissions": principal.staff.permissions.isEmpty
                        ? "send texts to one recipient at a time"
                        : principal.staff.permissions.sorted().map(\.label).joined(separator: "; "),
                    "threshold": principal.staff.lowBalanceThreshold?.decimalString ?? "",
                ],
                "manages": manages,
                "staff": staff.map { member -> [String: Any] in
                    // Only someone of at least their rank changes a person's access (owners only by owners).
                    let manageable = member.id != principal.staff.id && principal.staff.role.mayManage(member.role)
                    return [
                        "id": member.id, "name": member.name, "email": member.email, "role": member.role.label,
                        "permissions": member.permissions.sorted().map(\.label).joined(separator: "; "),
                        "removable": manageable,
                        "manageable": manageable,
                        "role_options": WebRoutes.roleOptions(for: principal, selected: member.role),
                        "permission_options": Permission.allCases.map { permission -> [String: Any] in
                            [
                                "value": permission.rawValue, "label": permission.label,
                                "checked": member.permissions.contains(permission),
                            ]
                        },
                        "several_numbers": inUse.count > 1,
                        "limited": member.numbers.isEmpty
                            ? false : member.numbers.map(WebFormat.phone).joined(separator: ", "),
                        "number_options": inUse.map { number -> [String: Any] in
                            [
                                "value": number.number, "label": WebFormat.phone(number.number),
                                "checked": member.numbers.contains(number.number),
                            ]
                        },
                    ]
                },
                "roles": WebRoutes.roleOptions(for: principal, selected: .staff),
            ]
            return try await pages.page(
                "staff",
                title: "Staff",
                section: "staff",
                request: request,
                context: context,
                values: values
            )
        }
        portal.post("/staff") { _, context in
            try await WebRoutes.submit(context, back: "/staff") { principal, form in
                let input = try form.input(
                    NewStaffInput.self,
                    ["name": .text, "email": .text, "role": .text, "password": .optionalText]
                )
                let added = try await administration.addStaff(principal, input)
                return ("/staff", "\(added.name) added as \(added.role.rawValue); they sign in with \(added.email).")
            }
        }
        portal.post("/staff/:id") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/staff") { principal, form in
                let patch = try form.input(
                    StaffPatch.self,
                    [
                        "password": .optionalText, "current_password": .optionalText, "low_balance_threshold": .number,
                        "role": .optionalText, "permissions": .list, "numbers": .list,
                    ]
                )
                let updated = try await administration.updateStaff(principal, id, patch)
                if patch.password != nil, updated.id == principal.staff.id {
                    return ("/sign-in", "Password changed. Sign in with the new password.")
                }
                if patch.role != nil || patch.permissions != nil {
                    let permissions = updated.permissions.sorted().map(\.label).joined(separator: "; ")
                    return (
                        "/staff",
                        "\(updated.name) is now \(updated.role.label): \(permissions.isEmpty ? "no permissions" : permissions)."
                    )
                }
                if patch.numbers != nil {
                    let limited = updated.numbers.map(WebFormat.phone).joined(separator: ", ")
                    return (
                        "/staff",
                        updated.numbers.isEmpty
                            ? "\(updated.name) may send from every number."
                            : "\(updated.name) may send from \(limited) only, and sees only those conversations."
                    )
                }
                return ("/staff", "\(updated.name) updated.")
            }
        }
        portal.post("/staff/:id/delete") { _, context in
            let id = try context.parameter("id")
            return try await WebRoutes.submit(context, back: "/staff") { principal, _ in
                let member = try await administration.visibleStaffMember(principal, id)
                try await administration.deleteStaff(principal, id)
                return ("/staff", "\(member.name) removed; their credits went back to the pool.")
            }
        }
    }

    /// The roles this person may give, for a select (owners only by owners).
    static func roleOptions(for principal: Principal, selected: Role) -> [[String: Any]] {
        Role.allCases.filter { principal.staff.role.mayManage($0) }.map { role -> [String: Any] in
            ["value": role.rawValue, "label": role.label, "selected": role == selected]
        }
    }
}
