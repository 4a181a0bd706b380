/**
 * A JSON API response of about `bytes` bytes: a page of user records with ids, names, e-mails,
 * dates, nested addresses and tags, the kind of body a cache holds. Deterministic, so that every
 * run compresses the same bytes.
 */
export function apiResponse(bytes: number): { data: object[]; page: number; total: number } {
  const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'];
  const cities = ['Paris', 'Berlin', 'Lisbon', 'Oslo'];
  const data: object[] = [];
  for (let index = 0, size = 40; size < bytes; index++) {
    const user = {
      id: 100_000 + index,
      uuid: `a1b2c3d4-${((index * 7919) % 65_536).toString(16).padStart(4, '0')}-4e5f-9a0b-${(index * 104_729).toString(16).padStart(12, '0')}`,
      name: `${names[index % names.length]} ${index}`,
      email: `user${index}@example.com`,
      active: index % 3 !== 0,
      // `|| 0`: JSON has no -0, so a fixture holding one would not round-trip.
      score: Math.round(Math.sin(index) * 10_000) / 100 || 0,
      createdAt: new Date(1_700_000_000_000 + index * 3_600_000).toISOString(),
      tags: ['alpha', 'beta', 'gamma', 'delta'].slice(0, 1 + (index % 4)),
      address: { street: `${index} Main Street`, city: cities[index % cities.length], zip: String(10_000 + ((index * 37) % 89_999)) },
    };
    data.push(user);
    size += JSON.stringify(user).length + 1;
  }
  return { data, page: 1, total: data.length };
}
