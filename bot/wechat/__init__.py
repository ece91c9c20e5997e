"""The WeChat official account front end (wechatpy): `/wechat` callbacks and the menu."""
