#!/usr/bin/env bash
# Delegated user and role management: a user whose role holds "users" or
# "roles" but not every permission gives and manages no more than that role
# holds, and nobody changes their own role. Refusals exit 77, name the missing
# permission and reach the audit trail. Admins are not held back.
. "$(dirname "$0")/../lib.sh"
new_store || { not_ok "store set-up"; exit 1; }
printf 'new-user-password-1\n' >"$T/pw.new"
printf 'helpdesk-password-1\n' >"$T/pw.hd"
printf 'rolemgr-password-1\n' >"$T/pw.rm"
as admin role add helpdesk users >/dev/null || not_ok "set-up: role helpdesk"
as admin role add rolemgr roles >/dev/null || not_ok "set-up: role rolemgr"
as admin user add hd --role helpdesk --kdf interactive --new-password-file "$T/pw.hd" >/dev/null || not_ok "set-up: user hd"
as admin user add rm --role rolemgr --kdf interactive --new-password-file "$T/pw.rm" >/dev/null || not_ok "set-up: user rm"

# refused WANT DESC CMD...: exit 77 and a message holding WANT.
refused() {
	local want=$1 d=$2; shift 2
	expect 77 "$d" "$@"
	check "  and is told: $want" grep -qF "$want" "$T/err"
}

# ---- A user holding only "users" -------------------------------------------
refused 'giving the role admin needs the permission "roles", which you do not hold' \
	"helpdesk cannot give itself the role admin" as hd user role hd admin
refused 'needs the permission "roles"' "helpdesk cannot add a user with the role admin" \
	as hd user add evil --role admin --kdf interactive --new-password-file "$T/pw.new"
refused 'changing the password of admin (role admin) needs the permission "roles"' \
	"helpdesk cannot reset the admin's password" as hd user passwd admin --new-password-file "$T/pw.new"
refused 'disabling admin (role admin) needs the permission' "helpdesk cannot disable the admin" \
	as hd user disable admin
refused 'unlocking admin (role admin) needs the permission' "helpdesk cannot unlock the admin" \
	as hd user unlock admin
refused 'needs the permission "reports"' "helpdesk cannot change the role of a viewer, who holds more" \
	as hd user role viewer helpdesk
refused 'needs the permission "reports"' "nor reset the viewer's password" \
	as hd user passwd viewer --new-password-file "$T/pw.new"
refused 'nobody may change their own role' "helpdesk cannot change its own role at all" \
	as hd user role hd helpdesk
expect 0 "the user list afterwards" as admin user list
check "shows no user evil" sh -c "! grep -q '^evil ' '$T/out'"
check "and hd still with the role helpdesk" grep -q '^hd  *helpdesk  *active' "$T/out"
check "and the viewer still a viewer" grep -q '^viewer  *viewer  *active' "$T/out"
expect 0 "the admin's old password still opens the store" as admin role list
expect 0 "the viewer's too" as viewer role list
# Within its own permissions the helpdesk still works.
expect 0 "helpdesk adds a user with its own role" as hd user add hd2 --role helpdesk --kdf interactive --new-password-file "$T/pw.new"
expect 0 "resets that user's password" as hd user passwd hd2 --new-password-file "$T/pw.hd"
expect 0 "unlocks that user" as hd user unlock hd2
expect 0 "and disables that user" as hd user disable hd2

# ---- A user holding only "roles" -------------------------------------------
refused 'nobody may edit the role they hold' "rolemgr cannot edit its own role" \
	as rm role edit rolemgr roles users settings keys audit
expect 0 "role list afterwards" as admin role list
check "rolemgr still holds only roles" grep -q '^rolemgr  *custom  *roles$' "$T/out"
expect 77 "so rolemgr still cannot rotate the key" as rm key rotate
refused 'a role may get only permissions you hold, and you do not hold "keys"' \
	"rolemgr cannot add a role with a permission it lacks" as rm role add big roles keys
refused 'editing the role helpdesk needs the permission "users"' \
	"rolemgr cannot edit a role holding a permission it lacks" as rm role edit helpdesk roles
expect 0 "rolemgr adds a role within its own permissions" as rm role add small roles
expect 0 "and edits it" as rm role edit small roles
refused 'you do not hold "users"' "but cannot give it a permission it lacks" as rm role edit small roles users
expect 0 "role list afterwards" as admin role list
check "has no role big" sh -c "! grep -q '^big ' '$T/out'"
check "and helpdesk still holds users" grep -q '^helpdesk  *custom  *users$' "$T/out"

# ---- Admins are not held back, but do not change their own role either -------
expect 0 "admin adds a second admin" as admin user add admin2 --role admin --kdf interactive --new-password-file "$T/pw.new"
expect 0 "admin gives hd the role marketer" as admin user role hd marketer
expect 0 "admin edits a custom role to any permissions" as admin role edit helpdesk users pii subscribers.export
refused 'nobody may change their own role' "admin cannot change the own role" as admin user role admin viewer

# ---- The refusals are in the audit trail ---------------------------------------
expect 0 "admin reads the audit trail" as admin audit log
for want in 'user.role	hd	denied	needs permission roles' 'user.add	evil	denied	needs permission roles' \
	'user.passwd	admin	denied	needs permission roles' 'user.role	hd	denied	own role' \
	'role.edit	rolemgr	denied	own role' 'role.add	big	denied	needs permission keys' \
	'role.add	small	ok	roles' 'role.add	helpdesk	ok	users'; do
	check "the audit trail records: ${want//	/ }" grep -qF "$want" "$T/out"
done
finish
