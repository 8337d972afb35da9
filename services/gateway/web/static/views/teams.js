// teams.js — teams (志愿服务队伍): officials list their region's teams, create one and invite
// volunteers to it; a volunteer sees their teams and their pending invitations, and accepts
// or declines each. A volunteer joins only by accepting (registry's team.invite).
import { api, field, form, go, h, nextStep, notice, OFFICIALS, pagedList, session, show, t, when } from '../app.js';

const LEVELS = ['squad', 'detachment', 'brigade', 'demonstration', 'unit'];
const ROLES = ['member', 'leader', 'info_officer'];

function isOfficial () {
  return OFFICIALS.includes(session.me.role);
}

function teamPath (id) {
  return (isOfficial() ? '/manage/teams/' : '/teams/') + id;
}

function teamCard (team) {
  return [
    h('h2', {}, h('a', { href: teamPath(team.id), 'data-link': true }, team.name)),
    h('p', { class: 'meta' }, t('team_level_' + team.level), ' · ', t('cat_' + team.category) !== 'cat_' + team.category ? t('cat_' + team.category) : team.category,
      ' · ', t('region_code'), ' ', team.region),
    h('p', { 'data-members': team.members }, t('team_members_n', { n: team.members }),
      team.my_role ? ' · ' + t('team_role_' + team.my_role) : '')
  ];
}

// /manage/teams: the region's teams, paged, and the form that creates one.
export async function teams (params) {
  let categories = [];
  try {
    categories = (await api('GET', '/v1/categories')).items;
  } catch (e) {
    return show(h('h1', {}, t('teams_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const region = params.region || session.me.region;
  const create = form([
    field({ name: 'name', label: t('team_name'), required: true, max: 100 }),
    field({ name: 'level', label: t('team_level'), type: 'select', required: true, options: LEVELS.map((l) => [l, t('team_level_' + l)]) }),
    field({ name: 'category', label: t('category'), type: 'select', required: true, options: categories.map((c) => [c.code, c.name]) }),
    field({ name: 'region', label: t('region_code'), required: true, max: 15, value: session.me.region, hint: t('region_code_hint') })
  ], t('team_create'), async (v, el, key) => {
    const team = await api('POST', '/v1/teams', { name: v.name, level: v.level, category: v.category, region: v.region }, { key });
    go('/manage/teams/' + team.id + '?created=1');
  }, { class: 'team-create' });
  show(
    h('h1', {}, t('teams_title')),
    h('details', { class: 'new-team' }, h('summary', {}, t('team_create')), create),
    h('h2', {}, t('teams_of_region', { region })),
    pagedList('/v1/teams?limit=20&region=' + encodeURIComponent(region), teamCard, t('teams_none'))
  );
}

// A team's members, twenty at a time (the op gives them all; the page shows them in pages).
function members (list) {
  const ul = h('ul', { class: 'cards compact members' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let shown = 0;
  function next () {
    for (const m of list.slice(shown, shown + 20)) {
      ul.append(h('li', { class: 'card', 'data-volunteer': m.volunteer_id }, h('strong', {}, m.name), ' · ', t('team_role_' + m.role)));
    }
    shown = Math.min(list.length, shown + 20);
    more.hidden = shown >= list.length;
  }
  more.addEventListener('click', next);
  next();
  return list.length ? h('div', { class: 'paged' }, ul, more) : notice(t('team_no_members'));
}

// /manage/teams/:id and /teams/:id: a team, its members (masked for a member who is not an
// official), and for officials the form that invites a volunteer.
export async function team (params) {
  let found;
  try {
    found = await api('GET', '/v1/teams/' + encodeURIComponent(params.id));
  } catch (e) {
    return show(h('h1', {}, t('team_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const invited = h('div', { 'aria-live': 'polite' });
  const invite = isOfficial()
    ? form([
      field({ name: 'volunteer_id', label: t('team_invite_who'), required: true, max: 20, hint: t('team_invite_hint'), attrs: { inputmode: 'numeric' } }),
      field({ name: 'role', label: t('team_role'), type: 'select', options: ROLES.map((r) => [r, t('team_role_' + r)]) })
    ], t('team_invite'), async (v, el, key) => {
      const invitation = await api('POST', '/v1/teams/' + found.id + '/members', { volunteer_id: v.volunteer_id, role: v.role }, { key });
      invited.replaceChildren(notice(t('team_invited', { id: invitation.volunteer_id })));
      el.reset();
    }, { class: 'team-invite' })
    : null;
  show(
    h('h1', {}, found.name),
    params.created ? notice(t('team_created')) : null,
    h('p', { class: 'meta' }, t('team_level_' + found.level), ' · ', t('region_code'), ' ', found.region),
    h('h2', {}, t('team_members_n', { n: found.members.length })),
    members(found.members),
    invite ? [h('h2', {}, t('team_invite')), invite, invited] : null,
    h('p', {}, h('a', { href: isOfficial() ? '/manage/teams' : '/teams', 'data-link': true }, t('teams_back')))
  );
}

// /teams: a volunteer's pending invitations (accept or decline) and their teams.
export async function myTeams () {
  let invitations;
  try {
    invitations = (await api('GET', '/v1/me/invitations')).items;
  } catch (e) {
    return show(h('h1', {}, t('my_teams_title')), notice(e.message + ' ' + nextStep(e), 'error'));
  }
  const answer = (invitation, accept) => {
    const button = h('button', { type: 'button', class: accept ? 'primary' : 'secondary' }, t(accept ? 'invitation_accept' : 'invitation_decline'));
    button.addEventListener('click', async () => {
      button.disabled = true;
      const card = button.closest('.card');
      try {
        await api('POST', '/v1/me/invitations/' + invitation.id + '/' + (accept ? 'accept' : 'decline'), {});
        myTeams().then(() => {
          const main = document.getElementById('main');
          main.querySelector('h1').after(notice(t(accept ? 'invitation_accepted' : 'invitation_declined', { team: invitation.team_name })));
        });
      } catch (e) {
        button.disabled = false;
        card.append(notice(e.message + ' ' + nextStep(e), 'error'));
      }
    });
    return button;
  };
  // Pending invitations are few (registry keeps at most one per team); shown twenty at a time.
  const pending = h('ul', { class: 'cards invitations' }, invitations.slice(0, 20).map((i) => h('li', { class: 'card invitation', 'data-team': i.team_id },
    h('h3', {}, i.team_name),
    h('p', { class: 'meta' }, t('team_role_' + i.role), ' · ', t('invited_at'), ' ', when(i.created_at)),
    h('div', { class: 'actions' }, answer(i, true), answer(i, false)))));
  show(
    h('h1', {}, t('my_teams_title')),
    h('h2', {}, t('invitations_title')),
    invitations.length ? pending : notice(t('invitations_none')),
    invitations.length > 20 ? notice(t('invitations_more', { n: invitations.length - 20 })) : null,
    h('h2', {}, t('my_teams')),
    pagedList('/v1/teams?limit=20', teamCard, t('my_teams_none'))
  );
}
