/*
 * virtlab-rise-widgets: a federated JupyterLab extension without plugins.
 *
 * The RISE slideshow (jupyterlab-rise 0.43.1, served at /rise/<path>) is its own
 * small JupyterLab application, built against JupyterLab 4.3 core packages, and
 * its module-federation share scope has no "@jupyterlab/console".  The widget
 * manager (@jupyter-widgets/jupyterlab-manager 5.0.x, from jupyterlab_widgets
 * 3.0.x) consumes that package as a shared singleton (it only uses the optional
 * IConsoleTracker token), so in the deck its module fails to load ("Shared module
 * @jupyterlab/console doesn't exist in shared scope default"), no widget manager
 * exists, the kernel's comm_open for "jupyter.widget" is refused ("Exception
 * opening new comm") and every widget shows as its text repr.
 *
 * Every federated extension's init(shareScope) runs before any extension module
 * is created, so this container's init puts a stand-in "@jupyterlab/console"
 * into the share scope when -- and only when -- the host application has none.
 * The stand-in exports just the IConsoleTracker token; no plugin provides it in
 * the deck, the widget manager gets null for that optional service and works as
 * in JupyterLab.  In JupyterLab itself (which shares the real package) this does
 * nothing.
 */
(function () {
  'use strict';
  var NAME = 'virtlab-rise-widgets';
  var SHARED = '@jupyterlab/console';
  // Lower than every real release: a host's own @jupyterlab/console always wins.
  var VERSION = '0.0.0';
  var stub = {
    __esModule: true,
    IConsoleTracker: { name: SHARED + ':IConsoleTracker',
                       description: 'stand-in token from ' + NAME + ' (no console here)' }
  };
  var container = {
    init: function (scope) {
      if (scope && !scope[SHARED]) {
        scope[SHARED] = {};
        scope[SHARED][VERSION] = {
          get: function () { return Promise.resolve(function () { return stub; }); },
          from: NAME,
          eager: false,
          loaded: 1
        };
      }
      return Promise.resolve();
    },
    get: function (module) {
      return Promise.reject(new Error(NAME + ' has no module ' + module));
    }
  };
  var registry = (window._JUPYTERLAB = window._JUPYTERLAB || {});
  registry[NAME] = container;
})();
