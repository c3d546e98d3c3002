import { describe, expect, it } from 'vitest';
import type { ComposeModel } from './model.ts';
import { applySubnets, subnetNeeds } from './networks.ts';

/** The shape `docker compose config` prints for a stack with a fixed subnet and fixed addresses. */
const fixed = (): ComposeModel => ({
  name: 'envs-x',
  services: {
    api: {
      image: 'api',
      networks: { backend: { ipv4_address: '172.28.1.5' }, default: null },
      environment: { DB_HOST: '172.28.1.6', UPSTREAM: 'http://172.28.1.6:5432/app', OTHER: '10.0.0.1' },
    },
    db: { image: 'db', networks: { backend: { ipv4_address: '172.28.1.6' } }, extra_hosts: ['api=172.28.1.5', 'outside=8.8.8.8'] },
  },
  networks: {
    default: { name: 'envs-x_default' },
    backend: {
      name: 'envs-x_backend',
      ipam: { config: [{ subnet: '172.28.0.0/16', gateway: '172.28.0.1', aux_addresses: { router: '172.28.0.2' } }] },
    },
    corp: { name: 'corp', external: true },
    lan: { driver: 'macvlan', ipam: { config: [{ subnet: '192.168.50.0/24' }] } },
  },
});

describe('subnetNeeds', () => {
  it('asks a subnet for every bridge network, sized for the fixed addresses, none for external or macvlan ones', () => {
    expect(subnetNeeds(fixed(), 24)).toEqual([
      { key: 'default', prefix: 24 },
      { key: 'backend', prefix: 23, original: '172.28.0.0/16' },
    ]);
  });
});

describe('applySubnets', () => {
  it('moves the subnet and every fixed address to the same offset in the leased block', () => {
    const model = fixed();
    const { changes } = applySubnets(
      model,
      new Map([
        ['default', '10.213.7.0/24'],
        ['backend', '10.213.8.0/23'],
      ]),
    );
    expect(model.networks?.backend?.ipam).toEqual({
      config: [{ subnet: '10.213.8.0/23', gateway: '10.213.8.1', aux_addresses: { router: '10.213.8.2' } }],
    });
    expect(model.networks?.default?.ipam).toEqual({ config: [{ subnet: '10.213.7.0/24' }] });
    expect(model.services.api?.networks?.backend).toEqual({ ipv4_address: '10.213.9.5' });
    expect(model.services.db?.networks?.backend).toEqual({ ipv4_address: '10.213.9.6' });
    expect(model.services.api?.environment).toEqual({ DB_HOST: '10.213.9.6', UPSTREAM: 'http://10.213.9.6:5432/app', OTHER: '10.0.0.1' });
    expect(model.services.db?.extra_hosts).toEqual(['api=10.213.9.5', 'outside=8.8.8.8']);
    expect(model.networks?.lan?.ipam).toEqual({ config: [{ subnet: '192.168.50.0/24' }] });
    expect(changes).toContainEqual({ subject: 'network backend', from: '172.28.0.0/16', to: '10.213.8.0/23' });
  });
});
