// The architecture's dependency direction (DEVELOPERS.md), checked in `npm test`:
//   nostr <- {relay, reputation, wallet, memory, voice} <- dvm <- agents <- web <- main
// A module may import only from layers to its left. Tests and benches are outside the graph.
const layers = {
  nostr: [],
  relay: ['nostr'],
  reputation: ['nostr'],
  wallet: ['nostr'],
  memory: ['nostr'],
  voice: ['nostr'],
  dvm: ['nostr', 'relay', 'reputation', 'wallet', 'memory', 'voice'],
  agents: ['nostr', 'relay', 'reputation', 'wallet', 'memory', 'voice', 'dvm'],
  web: ['nostr', 'relay', 'reputation', 'wallet', 'memory', 'voice', 'dvm', 'agents'],
  main: ['nostr', 'relay', 'reputation', 'wallet', 'memory', 'voice', 'dvm', 'agents', 'web'],
};
const all = Object.keys(layers);

module.exports = {
  forbidden: [
    ...all.map((from) => {
      const banned = all.filter((to) => to !== from && !layers[from].includes(to));
      return {
        name: `${from}-layer`,
        comment: `${from}/ may import only from: ${layers[from].join(', ') || '(nothing else in the project)'}`,
        severity: 'error',
        from: { path: `^${from}/` },
        to: { path: `^(${banned.join('|')}|test|bench)/` },
      };
    }),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/|\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
