// .vue files are compiled by @vitejs/plugin-vue; tsc only needs to know they export a component.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
declare module '*.css';
